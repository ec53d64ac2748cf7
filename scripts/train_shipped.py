"""Reproduce the checkpoints in weights/ from scratch.

    python scripts/train_shipped.py --output weights            # all three, as shipped
    python scripts/train_shipped.py --only gpt --steps 50       # a quick smoke run

On a CPU laptop the full run takes hours; the shipped ones were trained on one GPU
(see each model card for the hardware and wall time). For one model with custom
settings use `python -m minitransformers train --help`.
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
    args = parser.parse_args()
    results = train_all(args.output, device=args.device, steps=args.steps, which=tuple(args.only))
    for name, record in results.items():
        print(name, json.dumps(record["validation"]))


if __name__ == "__main__":
    main()
