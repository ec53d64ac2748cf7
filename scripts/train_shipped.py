"""Reproduce the checkpoints in weights/ from scratch.

    python scripts/train_shipped.py --output weights            # all three, as shipped
    python scripts/train_shipped.py --only gpt --steps 50       # a quick smoke run
    python scripts/train_shipped.py --only bert --resume        # continue an interrupted run exactly

mini-GPT and mini-BERT were trained on a 2-core CPU, each in about an hour (bf16
autocast, torch.compile; each model card gives the machine and the wall time);
the character-level GPT on one GPU. The same seed on the same hardware gives
the card's numbers again. A checkpoint is written every 250 steps (a few minutes
on a CPU): after an interruption, repeat the command with --resume. For one model with custom settings use
`python -m minitransformers train --help`.
"""

import argparse
import json
from pathlib import Path

from minitransformers.recipes.shipped import train_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("weights"))
    parser.add_argument("--only", nargs="+", choices=["gpt", "bert", "char"], default=["gpt", "bert", "char"])
    parser.add_argument("--steps", type=int, default=None, help="override the number of optimiser steps")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--time-budget", type=float, default=None,
                        help="stop each model at the first evaluation after this many seconds (the card says so)")
    parser.add_argument("--no-card", action="store_true", help="skip writing the model cards")
    parser.add_argument("--eager", action="store_true", help="do not torch.compile on CUDA")
    parser.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=VALUE",
                        help="training settings to change, e.g. --set learning_rate=1e-3")
    parser.add_argument("--dropout", type=float, default=None, help="dropout rate of gpt and bert")
    parser.add_argument("--resume", action="store_true",
                        help="continue each model from its last checkpoint (under OUTPUT/_checkpoints)")
    args = parser.parse_args()
    options = {"dropout": args.dropout} if args.dropout is not None else {}
    results = train_all(args.output, device=args.device, steps=args.steps, which=tuple(args.only),
                        time_budget_s=args.time_budget, write_card=not args.no_card, resume=args.resume,
                        overrides=args.overrides + (["compile=false"] if args.eager else []), **options)
    for name, record in results.items():
        print(name, json.dumps(record["validation"]))


if __name__ == "__main__":
    main()
