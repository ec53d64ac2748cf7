"""The ``minitransformers`` command line: ``python -m minitransformers <command> ...``.

Each sub-command lives in its own module in ``cli_commands/`` with two
functions: ``add_arguments(parser)`` and ``run(args) -> exit code``. This
file only builds the parser and turns user mistakes into one clear line on
stderr with exit code 2 (argparse's own convention for bad usage).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# command -> (module in cli_commands, one-line help)
COMMANDS = {
    "demo": ("demo", "show what the library does (no arguments needed)"),
    "generate": ("generate", "continue a prompt with a mini-GPT checkpoint"),
    "fill-mask": ("fill_mask", "predict the [MASK] tokens of a text with a mini-BERT checkpoint"),
    "embed": ("embed", "sentence embeddings (one row per input line) as a .npy, .pt or .csv file"),
    "attention": ("attention", "save an attention-map PNG for a text"),
    "train": ("train", "pre-train mini-GPT or mini-BERT on Shakespeare (reproduces weights/)"),
    "notebooks": ("notebooks", "write student copies of the course notebooks (solutions stubbed out)"),
}

EPILOG = """examples:
  minitransformers demo
  minitransformers generate --model mini-gpt-shakespeare --prompt "ROMEO:" --top-k 40 --seed 1
  minitransformers fill-mask --model mini-bert-shakespeare "To be or not to be, that is the [MASK]."
  minitransformers embed --model path/to/bert texts.txt --output embeddings.npy
  minitransformers attention --model mini-bert-shakespeare "thou art more lovely" --layer 1
"""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="minitransformers",
        description="A from-scratch, teachable transformer library: mini-BERT and mini-GPT.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(f"minitransformers.cli_commands.{module_name}")
        sub = subparsers.add_parser(name, help=help_text, description=(module.__doc__ or help_text),
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        if name != "train":
            sub.add_argument("--device", default=None,
                             help="cpu, cuda, cuda:N or mps (default: cuda when available)")
            sub.add_argument("--seed", type=int, default=None, help="random seed, for repeatable output")
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``minitransformers`` and ``python -m minitransformers``; returns the exit code."""
    from .cli_commands.common import CLIError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except (CLIError, ValueError, FileNotFoundError) as error:
        # The library's ValueErrors are written for the reader (what was expected, what to do);
        # MINITRANSFORMERS_DEBUG=1 shows the traceback instead.
        if os.environ.get("MINITRANSFORMERS_DEBUG"):
            raise
        message = " ".join(str(error).split())  # one line
        print(f"minitransformers {args.command}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a reader that stopped early (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
