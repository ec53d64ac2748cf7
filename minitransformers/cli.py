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
import warnings
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


DEVICE_HELP = "cpu, cuda, cuda:N or mps (default: cuda when available)"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (with where to read more), still exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per command."""
    parser = _Parser(
        prog="minitransformers",
        description="A from-scratch, teachable transformer library: mini-BERT and mini-GPT.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(f"minitransformers.cli_commands.{module_name}")
        # The module docstrings are written for the API docs; help shows them as plain text.
        description = (module.__doc__ or help_text).replace("``", "")
        sub = subparsers.add_parser(name, help=help_text, description=description,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("--device", default=None, help=DEVICE_HELP)
        sub.add_argument("--seed", type=int, default=None, help="random seed, for repeatable output")
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings as one line for command-line users (no source line from inside the library)."""
    return f"minitransformers: warning: {' '.join(str(message).split())}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``minitransformers`` and ``python -m minitransformers``; returns the exit code."""
    from ._startup import restore_interrupt

    restore_interrupt()
    command = "command"
    try:
        from .cli_commands.common import CLIError

        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        command = args.command
        warnings.formatwarning = _one_line_warning
        try:
            return args.run(args)
        finally:
            warnings.formatwarning = _FORMAT_WARNING
    except (CLIError, ValueError, FileNotFoundError, OSError) as error:
        # User mistakes: the library's ValueErrors are written for the reader (what was expected,
        # what to do), and an OSError is a path that cannot be read or written.
        # MINITRANSFORMERS_DEBUG=1 shows the traceback instead.
        if os.environ.get("MINITRANSFORMERS_DEBUG") or isinstance(error, BrokenPipeError):
            if isinstance(error, BrokenPipeError):  # output piped into a reader that stopped (`| head`)
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return 1
            raise
        print(f"minitransformers {command}: error: {_describe(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minitransformers: interrupted", file=sys.stderr)
        return 130


_FORMAT_WARNING = warnings.formatwarning


def _describe(error: BaseException) -> str:
    """One line for the user; for a file error, which file and what to check."""
    if isinstance(error, OSError) and error.errno is not None and error.filename is not None:
        return (f"cannot use {error.filename}: {error.strerror}; check that the path is right, that its "
                f"folder exists and is not read-only, and that you may read or write there")
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())
