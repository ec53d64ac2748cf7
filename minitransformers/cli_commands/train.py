"""``minitransformers train``: trains a model when ``minitransformers.training`` provides a command line.

Until then it says so and exits; training works from Python and the notebooks.
"""

from __future__ import annotations

import argparse
import importlib


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="options passed on to the trainer")


def run(args: argparse.Namespace) -> int:
    import sys

    try:
        training = importlib.import_module("minitransformers.training")
    except ImportError:
        training = None
    trainer_main = getattr(training, "main", None)
    if trainer_main is None:
        print("minitransformers train: training from the command line is coming soon; for now "
              "train from Python or the notebooks (minitransformers.training)", file=sys.stderr)
        return 1
    return trainer_main(args.rest) or 0
