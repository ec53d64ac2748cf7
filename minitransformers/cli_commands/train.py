"""``minitransformers train {gpt,bert,char}``: pre-train a model on the Shakespeare corpus.

The defaults reproduce the shipped checkpoints (see weights/README.md). Change
any training setting with --set key=value or a JSON file of settings:

  minitransformers train gpt --output runs --steps 200
  minitransformers train bert --output runs --config my_settings.json --set learning_rate=3e-4
  minitransformers train gpt --output runs --resume        # continue an interrupted run
  torchrun --nproc_per_node=2 -m minitransformers train gpt --output runs   # several processes

Checkpoints are written every 250 steps to <output>/_checkpoints/<name>/.
--resume continues with the settings saved in the checkpoint (steps and
--preset included); --steps, --preset, --config, --set and --seed given with
it change them.
The model's initial weights come from the seed (--seed, or --set seed=N;
default 0), so two runs with the same settings are identical.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .common import CLIError, check_writable
from .train_settings import positive_int, read_config_file, remember_preset, saved_preset, saved_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["gpt", "bert", "char"], help="which model to train")
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                        help="training settings to change, e.g. --set learning_rate=3e-4 batch_size=32")
    parser.add_argument("--output", type=Path, default=Path("runs"), help="where the trained model goes")
    parser.add_argument("--config", type=Path, help="a JSON file of training settings (TrainConfig fields)")
    parser.add_argument("--steps", type=positive_int,
                        help="number of optimiser steps (default: as shipped; with --resume: as saved)")
    parser.add_argument("--preset", default=None, choices=["shipped", "tiny", "mini"],
                        help="model size: as shipped (default; with --resume: as saved), or a named preset")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the last checkpoint, with its saved settings")


def run(args: argparse.Namespace) -> int:
    import torch

    from ..recipes.shipped import DIRECTORY_NAMES, default_train_config, train_shipped
    from ..training import TrainConfig, cleanup_distributed

    directory = args.output / DIRECTORY_NAMES[args.kind]
    check_writable(directory / "config.json", "--output")
    device = args.device or "auto"
    config = default_train_config(args.kind, directory, device, args.steps)
    preset = args.preset or "shipped"
    if args.resume:
        saved = saved_settings(Path(config.output_dir))
        preset = args.preset or saved_preset(Path(config.output_dir)) or preset
        if saved is not None:  # the interrupted run's settings, unless told otherwise below
            keep = {"output_dir": config.output_dir, "progress": config.progress}
            keep["device"] = device if args.device else saved.get("device", device)
            if args.steps is not None:
                keep["max_steps"] = args.steps
            config = TrainConfig.from_dict({**saved, **keep})
    if args.config is not None:
        # The file's settings replace the defaults; overrides on the command line come last.
        config = TrainConfig.from_dict({**config.to_dict(), **read_config_file(args.config)})
    for item in args.overrides:
        if "=" not in item:
            raise CLIError(f"override {item!r} is not KEY=VALUE, e.g. learning_rate=3e-4")
    config = config.with_overrides(args.overrides + ([f"seed={args.seed}"] if args.seed is not None else []))
    # The model is built inside train_shipped: seed its initial weights, so runs repeat.
    torch.manual_seed(config.seed)
    remember_preset(Path(config.output_dir), preset)
    try:
        record = train_shipped(args.kind, args.output, config, preset=preset, resume=args.resume)
    finally:
        cleanup_distributed()  # a no-op unless launched by torchrun
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, one report is enough
        print(f"saved {directory}: validation {record['validation']}")
    return 0
