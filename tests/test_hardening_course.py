"""The grader against a hostile student (issue 36, items 11-14): whatever the function does, ``check`` answers.

A function that exits, never returns, edits what it was given (deep inside a dict or a module) or
answers in another dtype gets a verdict that names what it did, never an escaped exception, a hang
or a silent pass.
"""

from __future__ import annotations

import _thread
import math
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from minitransformers import exercises


def causal_ok(t: int) -> torch.Tensor:
    return torch.arange(t)[None, :] <= torch.arange(t)[:, None]


# --- 11. SystemExit ------------------------------------------------------------------------------

def test_a_function_that_calls_sys_exit_is_reported_not_raised():
    result = exercises.check("causal_mask", lambda t: sys.exit(3))
    assert not result.passed
    assert result.message.startswith("✗ causal_mask: trial 1 of 4")
    assert "Your function raised SystemExit: 3" in result.message and "sys.exit()" in result.message
    bare = exercises.check("causal_mask", lambda t: exit())  # the notebook's exit(), no code
    assert not bare.passed and "SystemExit" in bare.message


def test_stop_turns_a_system_exit_into_the_graders_stop():
    try:
        exercises.check("causal_mask", lambda t: sys.exit(), stop=True)
    except exercises.ExerciseNotPassed as stop:
        assert "SystemExit" in str(stop)
    else:
        raise AssertionError("check(stop=True) did not stop")
    assert exercises.check("causal_mask", causal_ok).passed  # the grader itself still works


# --- 12. a function that never returns -----------------------------------------------------------

_RELEASE = threading.Event()  # set after each test, so that a spinning function ends even if never stopped
_SPINNERS: list[threading.Thread] = []


@pytest.fixture(autouse=True)
def _release_spinners():
    _RELEASE.clear()
    _SPINNERS.clear()
    yield
    _RELEASE.set()


def spin(*args):
    """A student function that never returns (until the test ends): a busy loop."""
    _SPINNERS.append(threading.current_thread())
    while not _RELEASE.is_set():
        pass


def _within(seconds: float, run):
    """``run()`` in a thread that must finish within ``seconds``: a test of a hang must fail, not hang."""
    box: dict = {}

    def target():
        try:
            box["value"] = run()
        except BaseException as error:  # noqa: BLE001  (handed to the test)
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


def _assert_stopped_for_the_time_limit(result, limit: str) -> None:
    assert not result.passed and result.mistake == "time_limit"
    first, problem = result.message.splitlines()[:2]
    assert first.startswith("✗ causal_mask: trial 1 of 4"), result.message  # the task, named
    assert f"still running after {limit} s" in problem and "time_limit=" in result.message
    time.sleep(0.5)  # the student's thread was told to stop: it is gone
    assert _SPINNERS and not any(thread.is_alive() for thread in _SPINNERS)


def test_a_function_that_never_returns_is_stopped_at_the_time_limit():
    started = time.perf_counter()
    result = _within(20, lambda: exercises.check("causal_mask", spin, time_limit=0.5))
    assert time.perf_counter() - started < 5
    _assert_stopped_for_the_time_limit(result, "0.5")


def test_the_time_limit_works_off_the_main_thread_too():
    result = _within(20, lambda: _within(19, lambda: exercises.check("causal_mask", spin, time_limit=0.5)))
    _assert_stopped_for_the_time_limit(result, "0.5")


def test_the_default_time_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MINITRANSFORMERS_CHECK_TIME_LIMIT", "0.5")
    _assert_stopped_for_the_time_limit(_within(20, lambda: exercises.check("causal_mask", spin)), "0.5")
    with pytest.raises(exercises.ExerciseNotPassed, match="still running after 0.5 s"):
        _within(20, lambda: exercises.check("causal_mask", spin, stop=True))
    monkeypatch.setenv("MINITRANSFORMERS_CHECK_TIME_LIMIT", "soon")
    with pytest.raises(ValueError, match="MINITRANSFORMERS_CHECK_TIME_LIMIT='soon'.*number of seconds"):
        exercises.check("causal_mask", causal_ok)


def test_the_default_time_limit_is_generous_and_ends_before_nbgraders_cell_timeout():
    from nbgrader.preprocessors import Execute

    # nbgrader interrupts a cell after Execute.timeout seconds: the grader's own message must come first.
    assert 10 <= exercises.DEFAULT_TIME_LIMIT < Execute.timeout.default_value


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "10", True])
def test_a_bad_time_limit_is_named(bad):
    with pytest.raises((TypeError, ValueError), match="time_limit must be a positive number of seconds"):
        exercises.check("causal_mask", causal_ok, time_limit=bad)


def test_a_slow_function_within_the_limit_passes_and_runs_as_the_grader_does():
    seen = []

    def slow(t):
        time.sleep(0.05)
        seen.append(torch.is_grad_enabled())  # the grader computes without autograd, in every thread
        return causal_ok(t)

    assert exercises.check("causal_mask", slow, time_limit=5).passed
    assert seen == [False] * 4
    assert exercises.check("causal_mask", causal_ok, time_limit=math.inf).passed  # no limit at all


def test_an_interrupt_while_the_function_runs_stops_it_and_names_the_task():
    # Jupyter's "interrupt kernel" and nbgrader's cell timeout both raise KeyboardInterrupt in the waiting check.
    interrupt = threading.Timer(0.5, _thread.interrupt_main)
    interrupt.start()
    try:
        with pytest.raises(KeyboardInterrupt, match="check\\('causal_mask'\\) was interrupted during trial 1 of 4"):
            exercises.check("causal_mask", spin, time_limit=30)
    finally:
        interrupt.cancel()  # never let it fire into another test
    time.sleep(0.5)
    assert _SPINNERS and not any(thread.is_alive() for thread in _SPINNERS)


@pytest.mark.slow
def test_in_a_jupyter_kernel_the_function_is_stopped_its_print_shown_and_the_kernel_carries_on(tmp_path,
                                                                                              monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent.parent))  # this checkout's package
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in (
        "import threading, time\nfrom minitransformers import exercises\n\n"
        "def my_causal_mask(t):\n    print('my function started')\n    while True:\n        pass",
        "exercises.check('causal_mask', my_causal_mask, time_limit=1)",
        "time.sleep(0.5)\nprint('still busy:', [t.name for t in threading.enumerate() if t.is_alive()"
        " and t is not threading.main_thread() and 'check' in t.name])",
    )]
    # The notebook's own cell timeout is far above the grader's limit: the grader must stop the loop itself.
    NotebookClient(notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                   ).execute()
    _, verdict, after = (cell.outputs for cell in notebook.cells)
    assert "my function started" in verdict[0]["text"]  # the student's print reaches its cell
    shown = verdict[1]["data"]["text/plain"]
    assert shown.startswith("✗ causal_mask: trial 1 of 4") and "still running after 1 s" in shown
    assert after[0]["text"] == "still busy: []\n"


@pytest.mark.slow
def test_nbgrader_autograde_gets_the_graders_verdict_for_a_hang_and_an_exit(tmp_path, monkeypatch):
    import nbformat
    from nbgrader.api import Gradebook
    from test_course_nbgrader import ASSIGNMENT, NOTEBOOKS_DIR, _nbgrader, _submit

    from minitransformers.cli import main

    monkeypatch.setenv("MINITRANSFORMERS_CHECK_TIME_LIMIT", "3")  # the kernels nbgrader starts inherit it
    course = tmp_path / "course"
    assert main(["notebooks", "--nbgrader", str(course)]) == 0
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    teacher = nbformat.read(NOTEBOOKS_DIR / f"{ASSIGNMENT}.ipynb", as_version=4)
    right = {cell.metadata["exercise"]: cell.source for cell in teacher.cells
             if "solution" in cell.metadata.get("tags", [])}
    _submit(course, "hostile", {**right, "causal_mask": "def my_causal_mask(t):\n    while True:\n        pass\n",
                                "padding_mask": "import sys\n\n\ndef my_padding_mask(attention_mask):\n"
                                                "    sys.exit()\n"})
    _nbgrader(course, "autograde", ASSIGNMENT, "--force")

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {grade.name.split("-check-")[0]: grade.score
                  for grade in gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "hostile").grades}
    assert scores == {"causal_mask": 0.0, "padding_mask": 0.0, "masking": 1.0}  # the kernel carried on
    graded = nbformat.read(course / "autograded" / "hostile" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    errors = [output.evalue for cell in graded.cells for output in cell.get("outputs", [])
              if output.output_type == "error"]
    assert "causal_mask: trial 1 of 4" in errors[0] and "still running after 3 s" in errors[0], errors
    assert "padding_mask: trial 1 of 4" in errors[1] and "SystemExit" in errors[1], errors
