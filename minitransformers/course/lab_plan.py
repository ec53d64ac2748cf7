"""The plan a notebook follows: its sections, its graded tasks and their labels, and where *Run All* first stops.

A notebook is cut into *sections* by its ``## `` headings, and each graded task has
a heading ``### Task N (graded, LABEL)``, LABEL being ``in class``, ``homework`` or
``optional``, followed (after its statement) by its solution cell and then its
grading cell, ``exercises.check(..., stop=True)``. In a student copy *Run All* stops
at the grading cell of the first task not yet solved; a student who solves the
in-class tasks in class first stops at the first homework (or optional) task, so
every in-class cell must come before that one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import nbformat

from .student_copies import SOLUTION_TAG, TASK_TAG

TASK_HEADING = re.compile(r"^### Task \d+ \(graded, ([a-z ]+)\)", re.MULTILINE)
SECTION_HEADING = re.compile(r"^## (.+?)\s*$", re.MULTILINE)
LABELS = ("in class", "homework", "optional")
AFTER_CLASS = ("homework", "optional")


@dataclass(frozen=True)
class Task:
    """A graded task: its exercise, its label and the cells of its heading, its solution and its check."""

    exercise: str
    label: str
    heading: int
    solution: int
    check: int

    @property
    def cells(self) -> range:
        return range(self.heading, self.check + 1)


def _is_task_cell(cell: nbformat.NotebookNode) -> bool:
    tags = cell.metadata.get("tags", [])
    return cell.cell_type == "code" and (SOLUTION_TAG in tags or TASK_TAG in tags)


def tasks(notebook: nbformat.NotebookNode) -> list[Task]:
    """The graded tasks of a teacher's notebook or of a student copy, in order.

    A solution cell with no task heading since the previous one shows again a task set
    elsewhere (an example of a check): it is no task of this notebook.
    """
    found, heading = [], None
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            labels = TASK_HEADING.findall(cell.source)
            if labels:
                heading = (index, labels[-1])
        elif _is_task_cell(cell) and heading is not None:
            if heading[1] not in LABELS:
                raise ValueError(f"task heading in cell {heading[0]} says {heading[1]!r}; write one of {LABELS}")
            found.append(Task(cell.metadata.get("exercise", "?"), heading[1], heading[0], index, index + 1))
            heading = None
    return found


def task_label(notebook: nbformat.NotebookNode, solution_index: int) -> str | None:
    """The label of the task whose solution is cell ``solution_index``, or None for a repeated example."""
    return next((task.label for task in tasks(notebook) if task.solution == solution_index), None)


def first_stop_after_class(notebook: nbformat.NotebookNode) -> int | None:
    """The grading cell where *Run All* first stops once the in-class tasks are solved (None: it runs through)."""
    return next((task.check for task in tasks(notebook) if task.label in AFTER_CLASS), None)


def sections(notebook: nbformat.NotebookNode) -> list[list[str]]:
    """For each cell, the ``## `` sections it belongs to, in order: the one it continues and those it starts.

    A markdown cell that holds text before its first heading continues the section before too;
    cells before the first heading belong to the section ``""``.
    """
    current, per_cell = "", []
    for cell in notebook.cells:
        names = SECTION_HEADING.findall(cell.source) if cell.cell_type == "markdown" else []
        starts_with_heading = bool(names) and cell.source.lstrip().startswith(f"## {names[0]}")
        per_cell.append(([] if starts_with_heading else [current]) + names)
        current = names[-1] if names else current
    return per_cell


def cells_of_sections(notebook: nbformat.NotebookNode, spans: Sequence[tuple[str, str]]) -> list[int]:
    """The cells of the sections from ``first`` to ``last`` (heading prefixes, both included) of each span."""
    owners = sections(notebook)
    order = list(dict.fromkeys(name for names in owners for name in names if name))

    def position(prefix: str) -> int:
        matches = [i for i, name in enumerate(order) if name.startswith(prefix)]
        if len(matches) != 1:
            raise ValueError(f"{len(matches)} sections start with {prefix!r}; the notebook's are {order}")
        return matches[0]

    chosen = set()
    for first, last in spans:
        chosen.update(order[position(first):position(last) + 1])
    return [index for index, names in enumerate(owners) if chosen.intersection(names)]
