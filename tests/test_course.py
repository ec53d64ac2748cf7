"""Student copies: solution bodies become stubs, and a copy runs up to its first task and stops there
with the grader's message naming the task."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from minitransformers.cli import main
from minitransformers.course import solution_cells, student_copy, stub_source, write_student_copies
from minitransformers.exercises.stop import RERUN_NOTE

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"

SOLUTION = '''import torch


def causal_mask(t):
    """True where query i may see key j."""
    positions = torch.arange(t)
    return positions[None, :] <= positions[:, None]
'''


def _notebook(solution: str = SOLUTION) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    solution_cell = nbformat.v4.new_code_cell(solution)
    solution_cell.metadata.update(tags=["solution"], exercise="causal_mask")
    notebook.cells = [
        nbformat.v4.new_code_cell("from minitransformers import exercises\nbefore = 'ran'"),
        solution_cell,
        nbformat.v4.new_code_cell('exercises.check("causal_mask", causal_mask, stop=True)'),
        nbformat.v4.new_code_cell("after = causal_mask(3)"),
    ]
    return notebook


def test_a_stub_keeps_the_signature_and_docstring_and_raises_with_the_hint():
    stub = stub_source(SOLUTION, "causal_mask", "compare positions")
    assert 'def causal_mask(t):\n    """True where query i may see key j."""\n    # YOUR CODE HERE' in stub
    assert "arange" not in stub.split("import torch")[1]  # the solution is gone, the import stays
    namespace: dict = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError, match="Task 'causal_mask': write causal_mask.*Hint: compare positions"):
        namespace["causal_mask"](3)


@pytest.mark.parametrize("source, words", [
    ("x = 1\n\ndef f():\n    return x\n", "top-level Assign at line 1"),
    ("def f(): return 1\n", "on its own lines"),
    ("import torch\n", "defines no function"),
])
def test_solution_cells_that_cannot_be_stubbed_are_refused(source, words):
    with pytest.raises(ValueError, match=words):
        stub_source(source, "causal_mask", "hint", "cell-7")


def test_a_solution_cell_must_name_its_exercise():
    notebook = _notebook()
    del notebook.cells[1].metadata["exercise"]
    with pytest.raises(ValueError, match='names no exercise; add metadata "exercise"'):
        student_copy(notebook)


def test_student_copy_clears_outputs_keeps_ids_and_retags():
    notebook = _notebook()
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", text="hi")]
    notebook.cells[0].execution_count = 3
    copy = student_copy(notebook)
    assert [cell.id for cell in copy.cells] == [cell.id for cell in notebook.cells]
    assert copy.cells[0].outputs == [] and copy.cells[0].execution_count is None
    assert copy.cells[1].metadata["tags"] == ["task"] and "NotImplementedError" in copy.cells[1].source
    assert "<=" in notebook.cells[1].source  # the teacher's notebook is unchanged
    assert solution_cells(copy) == [] and len(solution_cells(notebook)) == 1


def _run(notebook: nbformat.NotebookNode, path: Path) -> CellExecutionError | None:
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path)}})
    try:
        client.execute()
    except CellExecutionError as error:
        return error
    return None


@pytest.mark.slow
def test_the_student_copy_runs_up_to_the_first_task_and_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))  # the kernel imports this checkout's package
    assert _run(_notebook(), tmp_path) is None  # the teacher's version runs through
    copy = student_copy(_notebook())
    error = _run(copy, tmp_path)
    assert error is not None and error.ename == "ExerciseNotPassed"
    assert "✗ causal_mask" in error.evalue and "NotImplementedError" in error.evalue
    assert copy.cells[0].outputs == [] or copy.cells[0].execution_count == 1  # the cell before ran
    assert copy.cells[3].execution_count is None  # ... and nothing after the stop


def test_the_cli_writes_one_copy_per_notebook(tmp_path, capsys):
    source = tmp_path / "teacher"
    source.mkdir()
    nbformat.write(_notebook(), source / "01_x.ipynb")
    assert main(["notebooks", "--student", str(tmp_path / "out"), "--source", str(source)]) == 0
    copy = nbformat.read(tmp_path / "out" / "01_x.ipynb", as_version=4)
    assert "raise NotImplementedError" in copy.cells[1].source
    assert "1 student notebooks" in capsys.readouterr().out
    assert main(["notebooks", "--student", str(source), "--source", str(source)]) == 2
    assert "overwrite the teacher's notebooks" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no notebooks"):
        write_student_copies(tmp_path / "out" / "..", tmp_path / "empty")


NOTEBOOK_NAMES = sorted(path.stem for path in NOTEBOOKS_DIR.glob("*.ipynb"))
# Notebooks with no graded task: 04b is shown by the lecturer, so that Run All reaches every cell;
# 05 reads a real checkpoint (its head split is notebook 1's Tasks 3 and 4).
DEMONSTRATIONS = {"04b_bert_and_gpt_side_by_side", "05_pretrained_weights"}
# 04c trains three models live; its one task (the plateau baselines) is the homework beside them.
ONE_TASK = {"04c_why_bert_waits"}


def test_a_second_run_never_overwrites_a_students_work(tmp_path, capsys):
    source, out = tmp_path / "teacher", tmp_path / "class"
    source.mkdir()
    nbformat.write(_notebook(), source / "01_x.ipynb")
    nbformat.write(_notebook(), source / "02_y.ipynb")
    arguments = ["notebooks", "--student", str(out), "--source", str(source)]
    assert main(arguments) == 0
    assert main(arguments) == 0  # copies left as written: nothing to protect, a rerun is fine
    work = nbformat.read(out / "01_x.ipynb", as_version=4)
    work.cells[1].source = "def causal_mask(t):\n    return 'my answer'\n"
    nbformat.write(work, out / "01_x.ipynb")
    (out / "02_y.ipynb").unlink()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    capsys.readouterr()

    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert f"{out / '01_x.ipynb'} already exists and differs from a fresh copy" in error
    assert "nothing was written" in error and "--force" in error and error.count("\n") == 1
    assert "my answer" in (out / "01_x.ipynb").read_text(encoding="utf-8")
    assert not (out / "02_y.ipynb").exists()  # refused as a whole: not even the missing copy

    assert main([*arguments, "--force"]) == 0
    assert "my answer" not in (out / "01_x.ipynb").read_text(encoding="utf-8")
    assert (out / "02_y.ipynb").exists() and (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_teaching_md_command_works_from_the_repository_root(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(REPO_ROOT)
    target = tmp_path / "student_notebooks"
    assert main(["notebooks", "--student", str(target)]) == 0  # --source defaults to the package's notebooks/
    assert sorted(path.stem for path in target.glob("*.ipynb")) == NOTEBOOK_NAMES
    assert f"{len(NOTEBOOK_NAMES)} student notebooks in {target}" in capsys.readouterr().out

CITATIONS = ("1706.03762", "1810.04805", "language_understanding_paper.pdf",
             "language_models_are_unsupervised_multitask_learners.pdf", "329d105e34ec", "2f1cf92af21a")


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_every_notebook_has_objectives_graded_tasks_questions_and_references(name):
    from minitransformers import exercises

    notebook = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "Learning objectives" in prose and "**Time:**" in prose
    assert "## Discussion questions" in prose and "## References" in prose
    missing = [citation for citation in CITATIONS if citation not in prose]
    assert not missing, f"{name} does not cite {missing}"
    solutions = solution_cells(notebook)
    low, high = (0, 0) if name in DEMONSTRATIONS else (1, 1) if name in ONE_TASK else (2, 4)
    assert low <= len(solutions) <= high, f"{name} has {len(solutions)} graded tasks"
    sources = [cell.source for cell in notebook.cells]
    for cell in solutions:
        task = cell.metadata["exercise"]
        assert task in exercises.list_exercises()
        grading = sources[notebook.cells.index(cell) + 1]
        assert f'exercises.check("{task}"' in grading and "stop=True" in grading
    student = student_copy(notebook)
    assert all("raise NotImplementedError" in cell.source for cell in student.cells
               if "task" in cell.metadata.get("tags", []))


@pytest.fixture(scope="module")
def student_folder(tmp_path_factory) -> Path:
    """Student copies written by the CLI to a folder that is not called notebooks/ and has a space in its path."""
    folder = tmp_path_factory.mktemp("course") / "week 3 lab"
    assert main(["notebooks", "--student", str(folder)]) == 0
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in NOTEBOOK_NAMES if name not in DEMONSTRATIONS])
def test_each_student_copy_runs_from_another_folder_up_to_its_first_stub(name, student_folder, monkeypatch):
    monkeypatch.setenv("MINITRANSFORMERS_FAST", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    monkeypatch.delenv("MINITRANSFORMERS_WEIGHTS", raising=False)  # found from the package, not the folder
    student = nbformat.read(student_folder / f"{name}.ipynb", as_version=4)
    tasks = [index for index, cell in enumerate(student.cells) if "task" in cell.metadata.get("tags", [])]
    first = student.cells[tasks[0]].metadata["exercise"]
    error = _run(student, student_folder)
    assert error is not None, f"the student copy of {name} ran through its stubs"
    failed = [index for index, cell in enumerate(student.cells)
              if any(output.output_type == "error" for output in cell.get("outputs", []))]
    assert failed == [tasks[0] + 1], f"{name} failed at cell {failed}, not at the check of its first task:\n{error}"
    assert error.ename == "ExerciseNotPassed", error
    assert f"✗ {first}: not written yet (NotImplementedError: Task '{first}'" in error.evalue
    # What the student sees under the cell: the grader's message and a note, no traceback.
    shown = next(output for output in student.cells[failed[0]].outputs if output.output_type == "error").traceback
    assert shown == f"ExerciseNotPassed: {error.evalue}".splitlines() + [RERUN_NOTE], shown


def _task_labels() -> dict[str, str]:
    """Each graded task's exercise -> its label in the notebook heading ("in class", "homework", "optional").

    A solution cell with no task heading shows again a task set elsewhere (07 shows 01's scores as
    an example of a check); its exercise must have a label from its own task.
    """
    labels, repeats = {}, []
    for name in NOTEBOOK_NAMES:
        notebook = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
        heading = ""
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                found = re.findall(r"^### Task \d+ \(graded, ([a-z ]+)\)", cell.source, flags=re.MULTILINE)
                heading = found[-1] if found else heading
            elif cell in solution_cells(notebook):
                if heading:
                    labels[cell.metadata["exercise"]] = heading
                else:
                    repeats.append((name, cell.metadata["exercise"]))
                heading = ""
    unlabelled = [(name, task) for name, task in repeats if task not in labels]
    assert not unlabelled, f"tasks with no '### Task N (graded, in class|homework|optional)' heading: {unlabelled}"
    return labels


def test_the_in_class_tasks_are_the_lab_plans_and_at_most_six():
    labels = _task_labels()
    assert set(labels.values()) <= {"in class", "homework", "optional"}, labels
    in_class = {task for task, label in labels.items() if label == "in class"}
    guide = (NOTEBOOKS_DIR / "TEACHING.md").read_text(encoding="utf-8")
    plan = guide.split("## A 90-minute lab")[1].split("\n## ")[0]
    table = [line for line in plan.splitlines() if line.startswith("|")]
    planned = {task for line in table for task in re.findall(r"`([a-z_]+)`", line) if task in labels}
    assert in_class == planned, (f"the notebooks label {sorted(in_class)} 'in class' but TEACHING.md's plan has "
                                 f"{sorted(planned)}; make the task headings and the plan agree")
    assert len(in_class) <= 6, f"{len(in_class)} graded tasks in class; a 90-minute lab fits at most 6"
