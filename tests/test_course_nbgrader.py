"""``notebooks --nbgrader DIR``: the course in nbgrader's source format, and nbgrader itself grading it.

The slow test runs nbgrader (a dev dependency, from PyPI) as a lecturer would:
``generate_assignment`` on notebook 02, then ``autograde`` on two submissions.
The one with a wrong causal mask scores 0 on that task's test cell and full
points on the others; the right one scores full points everywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from minitransformers.cli import main
from minitransformers.course import nbgrader_source

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
ASSIGNMENT = "02_masks"  # three tasks, no checkpoint to load: the quickest notebook to autograde


def _teacher() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell('import torch\n\n\ndef my_causal_mask(t):\n    """(t t) bool."""\n'
                                       '    positions = torch.arange(t)\n'
                                       '    return positions[None, :] <= positions[:, None]\n')
    answer.metadata.update(tags=["solution"], exercise="causal_mask")
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Masks"),
        nbformat.v4.new_code_cell("from minitransformers import exercises"),
        answer,
        nbformat.v4.new_code_cell('exercises.check("causal_mask", my_causal_mask, stop=True)  # graded'),
    ]
    return notebook


def test_solution_cells_become_answer_regions_and_their_checks_test_cells_with_points():
    source = nbgrader_source(_teacher())
    setup, answer, check = source.cells[1:]
    assert answer.source == (
        'import torch\n\n\ndef my_causal_mask(t):\n    """(t t) bool."""\n'
        "    # Hints: exercises.hint('causal_mask'), then exercises.hint('causal_mask', level=2).\n"
        "    ### BEGIN SOLUTION\n    positions = torch.arange(t)\n"
        "    return positions[None, :] <= positions[:, None]\n    ### END SOLUTION\n")
    assert answer.metadata.nbgrader == {"grade": False, "grade_id": f"causal_mask-answer-{answer.id}",
                                        "locked": False, "schema_version": 3, "solution": True, "task": False}
    assert "tags" not in answer.metadata
    assert check.source == 'print(exercises.check("causal_mask", my_causal_mask, stop=True))  # graded'
    assert check.metadata.nbgrader["grade"] and check.metadata.nbgrader["locked"]
    assert check.metadata.nbgrader["points"] == 1 and not check.metadata.nbgrader["solution"]
    assert setup.metadata.nbgrader["locked"] and not setup.metadata.nbgrader["grade"]
    assert "nbgrader" not in source.cells[0].metadata
    assert len({cell.metadata.nbgrader["grade_id"] for cell in source.cells[1:]}) == 3  # unique ids


@pytest.mark.parametrize("label, points", [("optional", 0), ("homework", 1), ("in class", 1)])
def test_an_optional_task_is_worth_no_points_so_skipping_it_costs_nothing(label, points):
    teacher = _teacher()
    teacher.cells.insert(2, nbformat.v4.new_markdown_cell(f"### Task 1 (graded, {label}): the causal mask"))
    check = nbgrader_source(teacher).cells[-1]
    assert check.metadata.nbgrader["grade"] and check.metadata.nbgrader["points"] == points


def test_the_capstones_optional_bert_is_worth_no_points_and_its_other_tasks_one_each():
    capstone = nbformat.read(NOTEBOOKS_DIR / "09_your_own_gpt.ipynb", as_version=4)
    points = {cell.metadata.nbgrader["grade_id"].split("-check-")[0]: cell.metadata.nbgrader["points"]
              for cell in nbgrader_source(capstone).cells if cell.metadata.get("nbgrader", {}).get("grade")}
    assert points == {"attention": 1, "your_gpt": 1, "your_gpt_generate": 1, "your_bert": 0}


def test_a_solution_without_its_check_right_after_is_refused():
    teacher = _teacher()
    teacher.cells[3].source = "print('no grading here')"
    with pytest.raises(ValueError, match="does not grade it; put exercises.check\\('causal_mask'"):
        nbgrader_source(teacher)


def test_the_cli_writes_one_assignment_per_notebook_and_keeps_edited_ones(tmp_path, capsys):
    course = tmp_path / "course"
    assert main(["notebooks", "--nbgrader", str(course)]) == 0
    names = sorted(path.stem for path in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert sorted(path.name for path in (course / "source").iterdir()) == names
    assert all((course / "source" / name / f"{name}.ipynb").is_file() for name in names)
    edited = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Masks", "Masks (edited)"), encoding="utf-8")
    capsys.readouterr()
    assert main(["notebooks", "--nbgrader", str(course)]) == 2
    assert f"{edited} already exists and differs" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # one target at a time
        main(["notebooks", "--nbgrader", str(course), "--student", str(tmp_path / "s")])


def _nbgrader(course: Path, *arguments: str) -> None:
    # nbgrader runs `alembic` from PATH: put this interpreter's scripts first. The kernels it
    # starts import this checkout's package, in fast mode.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(REPO_ROOT), "MINITRANSFORMERS_FAST": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *arguments], cwd=course, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _submit(course: Path, student: str, answers: dict[str, str]) -> None:
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in released.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            assert "raise NotImplementedError()" in cell.source and "BEGIN SOLUTION" not in cell.source
            cell.source = answers[cell.metadata["exercise"]]
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(released, folder / f"{ASSIGNMENT}.ipynb")


@pytest.mark.slow
def test_nbgrader_releases_the_assignment_and_autogrades_a_wrong_and_a_right_submission(tmp_path):
    from nbgrader.api import Gradebook  # a dev dependency: pip install nbgrader

    course = tmp_path / "course"
    assert main(["notebooks", "--nbgrader", str(course)]) == 0
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")

    teacher = nbformat.read(NOTEBOOKS_DIR / f"{ASSIGNMENT}.ipynb", as_version=4)
    right = {cell.metadata["exercise"]: cell.source for cell in teacher.cells
             if "solution" in cell.metadata.get("tags", [])}
    wrong = {**right, "causal_mask": "def my_causal_mask(t):\n    return torch.ones(t, t, dtype=torch.bool).triu()\n"}
    _submit(course, "right", right)
    _submit(course, "wrong", wrong)
    _nbgrader(course, "autograde", ASSIGNMENT, "--force")

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {student: {grade.name.split("-check-")[0]: (grade.score, grade.max_score)
                            for grade in gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).grades}
                  for student in ("right", "wrong")}
    assert set(right) == {"causal_mask", "padding_mask", "masking"}
    assert scores["right"] == {task: (1.0, 1.0) for task in right}
    assert scores["wrong"] == {**scores["right"], "causal_mask": (0.0, 1.0)}
    graded = nbformat.read(course / "autograded" / "wrong" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    errors = [output for cell in graded.cells for output in cell.get("outputs", []) if output.output_type == "error"]
    assert errors and "Your mask is the upper triangle" in errors[0].evalue  # the grader's words, for feedback
