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
    # The grader's verdicts; a later cell of the notebook that calls the hanging function itself meets
    # nbgrader's own cell timeout instead, and the kernel still carries on (the scores above).
    errors = [output.evalue for cell in graded.cells for output in cell.get("outputs", [])
              if output.output_type == "error" and output.ename == "ExerciseNotPassed"]
    assert "causal_mask: trial 1 of 4" in errors[0] and "still running after 3 s" in errors[0], errors
    assert "padding_mask: trial 1 of 4" in errors[1] and "SystemExit" in errors[1], errors


# --- 13. in-place edits of anything the function received ----------------------------------------

def _lens_then_zero_the_norm(residual, final_norm, unembedding):
    logits = final_norm(residual) @ unembedding.T  # the right answer ...
    final_norm.weight.zero_()  # ... and then the caller's module is broken
    return logits


def test_zeroing_a_parameter_of_a_module_it_was_given_fails_and_names_it():
    result = exercises.check("logit_lens_layer", _lens_then_zero_the_norm)
    assert not result.passed and result.mistake == "modified_input"
    assert "changed its input `final_norm.weight` in place" in result.message, result.message


def test_an_edited_sub_layer_of_the_encoder_block_is_named():
    def block(x, mask, attention, attention_norm, feedforward, feedforward_norm):
        x = attention_norm(x + attention(x, mask))
        output = feedforward_norm(x + feedforward(x))
        feedforward.expand.bias.add_(1.0)
        return output

    result = exercises.check("encoder_block", block)
    assert not result.passed and result.mistake == "modified_input"
    assert "`feedforward.expand.bias`" in result.message, result.message


def _library_stages(ids, weights, config):
    from minitransformers.exercises.capstone_exercises import _library_gpt_stages

    return _library_gpt_stages(ids, weights, config)  # the right stages, as a student's own function


def test_zeroing_every_tensor_of_the_capstones_weights_fails_and_names_them():
    def zero_everything(ids, weights, config):
        stages = _library_stages(ids, weights, config)
        for tensor in weights.values():
            tensor.zero_()
        return stages

    result = exercises.check("your_gpt", zero_everything)
    assert not result.passed and result.mistake == "modified_input"
    assert "`weights['gpt.token_embeddings.weight']`" in result.message, result.message
    assert "more" in result.message and len(result.message) < 2000  # a count, not every name


def test_replacing_or_removing_an_entry_of_the_weights_dict_fails():
    def swap_an_entry(ids, weights, config):
        stages = _library_stages(ids, weights, config)
        weights["gpt.final_norm.weight"] = torch.zeros_like(weights["gpt.final_norm.weight"])
        return stages

    def empty_the_dict(ids, weights, config):
        stages = _library_stages(ids, weights, config)
        weights.clear()
        return stages

    swapped = exercises.check("your_gpt", swap_an_entry)
    assert not swapped.passed and "`weights['gpt.final_norm.weight']`" in swapped.message, swapped.message
    emptied = exercises.check("your_gpt", empty_the_dict)
    assert not emptied.passed and emptied.mistake == "modified_input" and "`weights`" in emptied.message


def test_a_changed_config_fails_and_never_reaches_the_library_model():
    from minitransformers.exercises.capstone_exercises import SHIPPED_GPT, _shipped

    shipped_config = _shipped(SHIPPED_GPT).config
    n_heads = shipped_config.n_heads

    def change_the_config(ids, weights, config):
        stages = _library_stages(ids, weights, config)
        config.n_heads = 1
        return stages

    try:
        result = exercises.check("your_gpt", change_the_config)
        assert shipped_config.n_heads == n_heads  # the grader's own model is untouched
    finally:
        shipped_config.n_heads = n_heads
    assert not result.passed and "`config.n_heads`" in result.message, result.message


def test_the_reference_and_the_student_share_nothing():
    from minitransformers.exercises.inputs import cloned

    inputs = {"weights": {"a": torch.ones(2)}, "parts": [torch.zeros(1), {"b": torch.ones(1)}],
              "norm": torch.nn.LayerNorm(3)}
    first, second = cloned(inputs), cloned(inputs)
    assert first[0] is not second[0] and first[0] is not inputs["weights"]
    assert first[0]["a"].data_ptr() != inputs["weights"]["a"].data_ptr()
    assert first[1][1]["b"].data_ptr() != second[1][1]["b"].data_ptr()
    assert first[2].weight.data_ptr() != inputs["norm"].weight.data_ptr()


def test_changes_deep_inside_nested_containers_are_found():
    from minitransformers.exercises.inputs import cloned, inputs_changed

    inputs = {"parts": [torch.zeros(2), {"b": torch.ones(2)}], "norm": torch.nn.LayerNorm(3), "n": 2}
    untouched = cloned(inputs)
    assert inputs_changed(inputs, untouched) is None
    edited = cloned(inputs)
    edited[0][1]["b"][0] = 5.0
    with torch.no_grad():  # as the grader runs the student's function
        edited[1].bias.fill_(1.0)
    assert inputs_changed(inputs, edited) == "`parts[1]['b']` and `norm.bias`"
    grown = cloned(inputs)
    grown[0].append(torch.ones(1))
    assert inputs_changed(inputs, grown) == "`parts`"


# --- 14. dtype -----------------------------------------------------------------------------------

def _scores(q, k):
    return q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])


def test_right_values_in_float64_are_refused_and_the_dtype_named():
    result = exercises.check("attention_scores", lambda q, k: _scores(q.double(), k.double()))
    assert not result.passed and result.mistake == "wrong_dtype"
    problem = result.message.splitlines()[1]
    assert "torch.float64" in problem and "torch.float32" in problem, result.message
    assert "values are right" in problem  # the dtype is the only thing wrong: say so
    assert "values differ" not in result.message


def test_float16_is_named_not_blamed_on_the_values():
    result = exercises.check("attention_scores", lambda q, k: _scores(q.half(), k.half()))
    assert not result.passed and result.mistake == "wrong_dtype"
    problem = result.message.splitlines()[1]
    assert "torch.float16" in problem and "torch.float32" in problem, result.message
    assert "values differ" not in result.message and "values are right" not in problem


def test_a_wrong_dtype_deep_inside_the_capstone_is_named_with_its_stage():
    def stages_in_float64(ids, weights, config):
        return [stage.double() for stage in _library_stages(ids, weights, config)]

    result = exercises.check("your_gpt", stages_in_float64)
    assert not result.passed and result.mistake == "wrong_dtype"
    assert "`embeddings`" in result.message and "torch.float64" in result.message, result.message


def test_the_right_dtype_still_passes():
    assert exercises.check("attention_scores", _scores).passed
