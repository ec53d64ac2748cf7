"""``minitransformers notebooks``: the course notebooks for students (``--student``) or for nbgrader (``--nbgrader``).

The committed notebooks are the teacher's version. ``--student DIR`` writes
copies in which the body of every solution cell's functions (cells tagged
``solution``) becomes a stub that raises ``NotImplementedError`` with the
task's first hint; outputs are cleared. ``--nbgrader DIR`` writes the
teacher's notebooks in nbgrader's source format (``source/<assignment>/``):
solution regions and autograded test cells built on ``exercises.check``.

Neither replaces a file that differs from what it would write (a student's
work, an edited assignment) unless ``--force``; other files are never touched.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import CLIError


def _default_source() -> Path:
    import minitransformers

    return Path(minitransformers.__file__).resolve().parents[1] / "notebooks"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--student", type=Path, metavar="DIR",
                        help="folder to write the student copies to (created if missing)")
    target.add_argument("--nbgrader", type=Path, metavar="DIR",
                        help="nbgrader course folder to write the assignments to, as source/<name>/<name>.ipynb")
    parser.add_argument("--source", type=Path, default=None,
                        help="folder of the teacher's notebooks (default: the repository's notebooks/)")
    parser.add_argument("--force", action="store_true",
                        help="replace files that differ from a fresh copy (by default they are kept and nothing "
                             "is written)")


def run(args: argparse.Namespace) -> int:
    from ..course import write_nbgrader_sources, write_student_copies

    source = args.source or _default_source()
    if not source.is_dir():
        raise CLIError(f"notebook folder {source} does not exist; pass --source path/to/notebooks")
    try:
        if args.student is not None:
            written, folder, kind = write_student_copies(source, args.student, args.force), args.student, "student"
        else:
            written, folder, kind = write_nbgrader_sources(source, args.nbgrader, args.force), args.nbgrader, "nbgrader"
    except FileExistsError as error:
        raise CLIError(str(error)) from None
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} {kind} notebooks in {folder}")
    return 0
