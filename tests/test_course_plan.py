"""Run All follows the lab plan, and no task's answer is imported above it.

The plan is TEACHING.md's table: a row names a notebook (``**03**``) and the
sections the lab does in class (``"From text to token ids" to "One encoder
block", then "Fill in the blank"``: ``## `` headings, by their start); a row
naming none takes the whole notebook. The in-class cells are those sections'
cells and the in-class tasks'. A student who solves the in-class tasks in
class runs the copy with *Run All* and stops at the first homework task: every
in-class cell must come before it, in every student copy.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from minitransformers.cli import main
from minitransformers.course.lab_plan import cells_of_sections, first_stop_after_class, tasks

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = {path.stem: path for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb"))}


def lab_plan() -> dict[str, list[tuple[str, str]]]:
    """TEACHING.md's plan: notebook name -> the spans of sections done in class (empty: the whole notebook)."""
    guide = (NOTEBOOKS_DIR / "TEACHING.md").read_text(encoding="utf-8")
    table = [line for line in guide.split("## A 90-minute lab")[1].split("\n## ")[0].splitlines()
             if line.startswith("|")]
    plan: dict[str, list[tuple[str, str]]] = {}
    for line in table:
        column = line.split("|")[2]
        number = re.search(r"\*\*(\d+b?)\*\*", column)
        if not number:
            continue
        name = next(name for name in NOTEBOOKS if name.split("_")[0] == number.group(1))
        plan[name] = [(first, last or first) for first, last in re.findall(r'"([^"]+)"(?: to "([^"]+)")?', column)]
    return plan


def in_class_cells(notebook: nbformat.NotebookNode, spans: list[tuple[str, str]]) -> list[int]:
    cells = set(cells_of_sections(notebook, spans) if spans else range(len(notebook.cells)))
    for task in tasks(notebook):
        if task.label == "in class":
            cells.update(task.cells)
    return sorted(cells)


def test_the_plan_names_the_notebooks_and_sections_of_the_lab():
    plan = lab_plan()
    assert {name.split("_")[0] for name in plan} == {"01", "02", "03", "04", "04b"}, plan
    assert plan["03_mini_bert"] == [("From text to token ids", "One encoder block"),
                                    ("Fill in the blank", "Fill in the blank")]
    for name, spans in plan.items():
        in_class_cells(nbformat.read(NOTEBOOKS[name], as_version=4), spans)  # every section it names exists


@pytest.fixture(scope="module")
def student_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("course") / "lab 1 (in class)"
    assert main(["notebooks", "--student", str(folder)]) == 0
    return folder


def _ids(notebook: nbformat.NotebookNode, cells: list[int]) -> list[str]:
    return [notebook.cells[index].get("id", str(index)) for index in cells]


@pytest.mark.parametrize("name", sorted(lab_plan()))
def test_run_all_reaches_every_in_class_cell_before_the_first_homework_stop(name, student_folder):
    student = nbformat.read(student_folder / f"{name}.ipynb", as_version=4)
    cells = in_class_cells(student, lab_plan()[name])
    stop = first_stop_after_class(student)
    reached = [index for index in cells if stop is None or index < stop]
    missed = [index for index in cells if index not in reached]
    assert not missed, (
        f"in the student copy of {name}, Run All stops at the homework check in cell "
        f"{_ids(student, [stop])[0]!r} before the in-class cells {_ids(student, missed)}; it reaches "
        f"{_ids(student, reached)}. Move the homework task after the in-class sections")


def _run(notebook: nbformat.NotebookNode, folder: Path) -> CellExecutionError | None:
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    try:
        client.execute()
    except CellExecutionError as error:
        return error
    return None


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in sorted(lab_plan()) if not name.startswith("04b")])
def test_with_the_in_class_tasks_solved_run_all_runs_every_in_class_cell_and_stops_at_homework(
        name, student_folder, monkeypatch):
    monkeypatch.setenv("MINITRANSFORMERS_FAST", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    teacher = nbformat.read(NOTEBOOKS[name], as_version=4)
    student = nbformat.read(student_folder / f"{name}.ipynb", as_version=4)
    for task in tasks(student):
        if task.label == "in class":  # what the student writes in class
            student.cells[task.solution].source = teacher.cells[task.solution].source
    stop = first_stop_after_class(student)
    error = _run(student, student_folder)
    assert error is not None and error.ename == "ExerciseNotPassed", error
    failed = [index for index, cell in enumerate(student.cells)
              if any(output.output_type == "error" for output in cell.get("outputs", []))]
    assert failed == [stop], f"{name} stopped at {_ids(student, failed)}, not at the first homework check"
    code = [index for index in in_class_cells(student, lab_plan()[name]) if student.cells[index].cell_type == "code"]
    not_run = [index for index in code if student.cells[index].execution_count is None]
    assert not not_run, f"Run All on {name} did not run the in-class cells {_ids(student, not_run)}"


# The library's functions that compute a task's whole answer from the task's own inputs.
ANSWERS = {
    "causal_mask": {"causal_mask"}, "padding_mask": {"padding_mask"}, "attention_scores": {"attention_scores"},
    "attention_head": {"attend"}, "attention": {"attend"}, "masking": {"masked_softmax"},
    "sinusoidal_positions": {"sinusoidal_vectors"}, "mlm_masking": {"apply_mlm_rule"},
    "mean_pooling": {"pool"}, "last_token_pooling": {"pool"}, "your_gpt_generate": {"generate"},
}


def library_names_imported(source: str) -> set[str]:
    """The names a cell imports from the library (``from minitransformers... import x``, ``minitransformers.x``)."""
    names, modules = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "minitransformers":
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            modules.update(alias.asname or alias.name for alias in node.names
                           if alias.name.split(".")[0] == "minitransformers")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            names.add(node.attr)
    return names


def test_the_import_finder_sees_both_ways_of_importing():
    assert library_names_imported("from minitransformers import attend, causal_mask as cm") == {"attend", "cm"}
    assert "attend" in library_names_imported("import minitransformers as mt\nmt.attend(q, k, v)")
    assert library_names_imported("from einops import einsum") == set()


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_no_task_has_its_answer_imported_above_it(name):
    notebook = nbformat.read(NOTEBOOKS[name], as_version=4)
    problems = []
    for task in tasks(notebook):
        above = set().union(*(library_names_imported(cell.source) for cell in notebook.cells[:task.check]
                              if cell.cell_type == "code"))
        given = above & ANSWERS.get(task.exercise, set())
        if given:
            problems.append(f"{name} imports {sorted(given)} above the task {task.exercise!r}: the library's "
                            f"answer; import it after the task's check")
    assert not problems, "\n".join(problems)
