"""``minitransformers notebooks --student DIR``: write the student copies of the course notebooks.

The committed notebooks are the teacher's version. In each copy, the body of
every solution cell's functions (cells tagged ``solution``) becomes a stub
that raises ``NotImplementedError`` with the task's hint; outputs are cleared.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import CLIError


def _default_source() -> Path:
    import minitransformers

    return Path(minitransformers.__file__).resolve().parents[1] / "notebooks"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--student", type=Path, required=True, metavar="DIR",
                        help="folder to write the student copies to (created if missing)")
    parser.add_argument("--source", type=Path, default=None,
                        help="folder of the teacher's notebooks (default: the repository's notebooks/)")


def run(args: argparse.Namespace) -> int:
    from ..course import write_student_copies

    source = args.source or _default_source()
    if not source.is_dir():
        raise CLIError(f"notebook folder {source} does not exist; pass --source path/to/notebooks")
    written = write_student_copies(source, args.student)
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} student notebooks in {args.student}")
    return 0
