"""The course notebooks in nbgrader's source format, for a lecturer who grades with nbgrader.

nbgrader (https://nbgrader.readthedocs.io) reads a teacher's notebook in which

- an *autograded answer* cell (metadata ``nbgrader.solution: true``) marks the
  code students write between ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
  ``nbgrader generate_assignment`` replaces it with ``raise NotImplementedError()``;
- an *autograder test* cell (``grade: true``, ``locked: true``, ``points``)
  earns its points when it runs without an error.

Our notebooks already have both: each solution cell (tagged ``solution``) is an
answer cell, and the cell right after it, ``exercises.check(..., stop=True)``,
raises when the answer is wrong, so it is the test cell (its verdict is printed:
nbgrader would read a cell's result as partial credit), worth one point, or none
for an optional task (``### Task N (graded, optional)``): skipping it costs
nothing, and nbgrader still shows whether it passed. Every other code cell
is locked (read-only) so that a student's edit cannot change what is graded.
One notebook is one assignment: ``DIR/source/<name>/<name>.ipynb``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from .lab_plan import tasks
from .student_copies import (
    SOLUTION_TAG, course_notebooks, rewrite_bodies, solution_cells, task_and_hint, write_without_losing_work,
)

POINTS_PER_TASK = 1
POINTS_PER_OPTIONAL_TASK = 0
NBGRADER_SCHEMA = 3


def _nbgrader(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
              points: int | None = None) -> dict:
    metadata = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": NBGRADER_SCHEMA,
                "solution": solution, "task": False}
    if points is not None:
        metadata["points"] = points
    return metadata


def _solution_region(task: str):
    def region(name: str, indent: str, body: list[str]) -> list[str]:
        return [f"{indent}# Hints: exercises.hint({task!r}), then exercises.hint({task!r}, level=2).",
                f"{indent}### BEGIN SOLUTION", *body, f"{indent}### END SOLUTION"]

    return region


def _printed(source: str) -> str:
    """``source`` with its last expression printed rather than shown as the cell's result.

    nbgrader reads a test cell's result as partial credit (a number); a printed verdict is
    only text for the student, and the cell earns its points by raising nothing.
    """
    last = ast.parse(source).body[-1]
    if not isinstance(last, ast.Expr):
        return source
    lines = source.splitlines()

    def insert(line: int, byte_column: int, text: str) -> None:  # ast columns count UTF-8 bytes
        encoded = lines[line].encode("utf-8")
        lines[line] = (encoded[:byte_column] + text.encode("utf-8") + encoded[byte_column:]).decode("utf-8")

    insert(last.end_lineno - 1, last.end_col_offset, ")")
    insert(last.lineno - 1, last.col_offset, "print(")
    return "\n".join(lines)


def nbgrader_source(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the teacher's ``notebook`` in nbgrader's source format (outputs cleared)."""
    copy = nbformat.from_dict(notebook)
    answers = {id(cell) for cell in solution_cells(copy)}
    optional = {task.solution for task in tasks(copy) if task.label == "optional"}  # read before the tags change
    for index, cell in enumerate(copy.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        cell_id = cell.get("id") or f"cell-{index}"
        if id(cell) in answers:
            task, _ = task_and_hint(cell)
            cell.source = rewrite_bodies(cell.source, _solution_region(task), cell_id)
            cell.metadata["nbgrader"] = _nbgrader(f"{task}-answer-{cell_id}", solution=True)
            cell.metadata["tags"] = [tag for tag in cell.metadata.get("tags", []) if tag != SOLUTION_TAG]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
        elif index > 0 and id(copy.cells[index - 1]) in answers:
            task = copy.cells[index - 1].metadata["exercise"]
            if f'exercises.check("{task}"' not in cell.source:
                raise ValueError(f"cell {cell_id!r} follows the solution of {task!r} but does not grade it; "
                                 f"put exercises.check({task!r}, ..., stop=True) right after each solution cell")
            cell.source = _printed(cell.source)
            points = POINTS_PER_OPTIONAL_TASK if index - 1 in optional else POINTS_PER_TASK
            cell.metadata["nbgrader"] = _nbgrader(f"{task}-check-{cell_id}", grade=True, locked=True, points=points)
        else:
            cell.metadata["nbgrader"] = _nbgrader(f"locked-{cell_id}", locked=True)
    copy.metadata["minitransformers"] = {"version": "nbgrader"}
    return copy


def write_nbgrader_sources(source_dir: Path, course_dir: Path, force: bool = False) -> list[Path]:
    """Write every ``*.ipynb`` of ``source_dir`` as an nbgrader assignment: ``course_dir/source/<name>/<name>.ipynb``.

    Then, in ``course_dir``: ``nbgrader generate_assignment <name>`` for the students' version,
    ``nbgrader autograde <name>`` for the submissions. Files that differ are kept unless ``force``.
    """
    course_dir = Path(course_dir)
    notebooks = course_notebooks(source_dir, course_dir / "source")
    sources = {course_dir / "source" / path.stem / path.name:
               nbformat.writes(nbgrader_source(nbformat.read(path, as_version=4))) + "\n" for path in notebooks}
    return write_without_losing_work(sources, force)
