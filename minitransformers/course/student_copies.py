"""Student copies of the notebooks: the committed notebooks are the teacher's, with solutions.

A *solution cell* is a code cell tagged ``solution`` (cell metadata
``"tags": ["solution"]``) and naming its exercise (``"exercise":
"causal_mask"``). It holds only the functions the student writes (and
imports). The student copy keeps each function's ``def`` line and
docstring and replaces its body with a stub::

    def causal_mask(t):
        \"\"\"...\"\"\"
        # YOUR CODE HERE
        raise NotImplementedError("Task 'causal_mask': write causal_mask(), ... Hint: ...")

so the notebook runs up to the first grading cell
(``exercises.check("causal_mask", causal_mask, stop=True)``), which stops
with the grader's message naming the task. One source, two versions:
the tests run the teacher's notebooks, and check that the student copies
run up to their first stub.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import nbformat

SOLUTION_TAG = "solution"
TASK_TAG = "task"  # the tag a solution cell gets in the student copy


def solution_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The code cells tagged ``solution``, in order."""
    return [cell for cell in notebook.cells
            if cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", [])]


def task_and_hint(cell: nbformat.NotebookNode) -> tuple[str, str]:
    """The exercise a solution cell answers, and its first hint (``exercises.hint``: hints live in one place)."""
    from .. import exercises

    name = cell.metadata.get("exercise")
    if name not in exercises.list_exercises():
        found = f"names {name!r}" if name else "names no exercise"
        raise ValueError(f"solution cell {cell.get('id')!r} {found}; add metadata \"exercise\": \"<name>\" "
                         f"(one of {exercises.list_exercises()})")
    return name, exercises.hint(name)


def rewrite_bodies(source: str, new_body: Callable[[str, str, list[str]], list[str]], cell_id: str = "?") -> str:
    """``source`` with the body of every top-level function replaced by ``new_body(name, indent, body_lines)``.

    The ``def`` line, the decorators and the docstring stay (the docstring is the task's statement),
    and so do imports. Anything else at the top level is refused: a solution cell holds only the
    functions to write.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    kept: list[str] = []
    functions = previous_end = 0
    for node in tree.body:
        start = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno) - 1
        kept.extend(lines[previous_end:start])  # blank lines and comments between statements
        previous_end = node.end_lineno
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            kept.extend(lines[start:node.end_lineno])
            continue
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            raise ValueError(
                f"solution cell {cell_id!r} has a top-level {type(node).__name__} at line {node.lineno}; a "
                f"solution cell may hold only imports and the functions to write (move the rest to another cell)"
            )
        body = node.body
        if body[0].lineno == node.lineno:
            raise ValueError(f"solution cell {cell_id!r}: put the body of {node.name}() on its own lines")
        has_docstring = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str)
        header_end = body[0].end_lineno if has_docstring else body[0].lineno - 1
        kept.extend(lines[start:header_end])
        kept.extend(new_body(node.name, " " * body[0].col_offset, lines[header_end:node.end_lineno]))
        functions += 1
    if functions == 0:
        raise ValueError(f"solution cell {cell_id!r} defines no function to write")
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n"


def stub_source(source: str, task: str, hint: str, cell_id: str = "?") -> str:
    """``source`` with the body of every top-level function replaced by a stub raising NotImplementedError."""

    def stub(name: str, indent: str, body: list[str]) -> list[str]:
        message = (f"Task {task!r}: write {name}(), then run the check below. Hint: {hint} "
                   f"(a closer one: exercises.hint({task!r}, level=2))")
        return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError({message!r})"]

    return rewrite_bodies(source, stub, cell_id)


def student_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with every solution stubbed out and every output cleared."""
    copy = nbformat.from_dict(notebook)  # a deep copy; cell ids are kept
    for cell in copy.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        tags = cell.metadata.get("tags", [])
        if SOLUTION_TAG in tags:
            task, hint = task_and_hint(cell)
            cell.source = stub_source(cell.source, task, hint, cell.get("id", "?"))
            cell.metadata["tags"] = [TASK_TAG if tag == SOLUTION_TAG else tag for tag in tags]
    copy.metadata["minitransformers"] = {"version": "student"}
    return copy


def course_notebooks(source_dir: Path, output_dir: Path) -> list[Path]:
    """The teacher's notebooks in ``source_dir``, after checking that ``output_dir`` is another folder."""
    notebooks = sorted(Path(source_dir).glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks (*.ipynb) in {source_dir}; give the folder of the course "
                                f"notebooks with --source")
    if Path(output_dir).resolve() == Path(source_dir).resolve():
        raise ValueError("the copies would overwrite the teacher's notebooks; choose another folder")
    return notebooks


def write_without_losing_work(files: dict[Path, str], force: bool = False) -> list[Path]:
    """Write ``{path: text}``, never replacing a file that differs from its new text unless ``force``.

    A file already holding exactly its new text is left as it is. If any other file is in the way,
    nothing at all is written and ``FileExistsError`` names them all: it may be a student's work.
    Files that are not in ``files`` are never touched.
    """
    in_the_way = [path for path, text in files.items()
                  if path.exists() and path.read_text(encoding="utf-8") != text]
    if in_the_way and not force:
        names, one = ", ".join(str(path) for path in in_the_way), len(in_the_way) == 1
        raise FileExistsError(f"{names} already {'exists' if one else 'exist'} and {'differs' if one else 'differ'} "
                              f"from a fresh copy (a student's work?); nothing was written. Choose another folder, "
                              f"or pass --force to replace {'it' if one else 'them'}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return list(files)


def write_student_copies(source_dir: Path, output_dir: Path, force: bool = False) -> list[Path]:
    """Write the student copy of every ``*.ipynb`` in ``source_dir`` to ``output_dir``; returns the paths.

    A copy that a student may have edited (a file there that differs from a fresh copy) is not
    replaced unless ``force``: see ``write_without_losing_work``.
    """
    output_dir = Path(output_dir)
    copies = {output_dir / path.name: nbformat.writes(student_copy(nbformat.read(path, as_version=4))) + "\n"
              for path in course_notebooks(source_dir, output_dir)}
    return write_without_losing_work(copies, force)
