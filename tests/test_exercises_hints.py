"""Graded hints: a nudge in words, then a closer one, neither the answer; a failed check offers them and
stops a notebook or a script with its message, not a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from minitransformers import exercises
from minitransformers.course import find_leaks, solution_lines, student_copy
from minitransformers.exercises.hints import HINTS
from minitransformers.exercises.stop import RERUN_NOTE

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = [line for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
             for line in solution_lines(nbformat.read(path, as_version=4))]


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_every_exercise_has_two_hints_and_nothing_else_does():
    assert sorted(HINTS) == sorted(exercises.list_exercises())
    for name in exercises.list_exercises():
        first, second = exercises.hint(name), exercises.hint(name, level=2)
        assert first == HINTS[name][0] and second == HINTS[name][1] and first != second
    with pytest.raises(ValueError, match="hint level 3 does not exist; use level=1"):
        exercises.hint("causal_mask", level=3)
    with pytest.raises(ValueError, match="unknown exercise 'attn'"):
        exercises.hint("attn")


CODE_MARKS = ("`", "torch.", "=", "[", "@", "->")


def _code_marks(text: str) -> list[str]:
    return [mark for mark in CODE_MARKS if mark in text]


@pytest.mark.parametrize("name", list(HINTS))
def test_a_first_hint_is_words_only(name):
    first = exercises.hint(name)
    assert not _code_marks(first), f"the first hint of {name} holds code ({_code_marks(first)}): {first}"


@pytest.mark.parametrize("name", list(HINTS))
def test_no_hint_is_the_answer(name):
    solution_cells = [cell for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
                      for cell in nbformat.read(path, as_version=4).cells
                      if "solution" in cell.metadata.get("tags", [])]
    for level in (1, 2):
        text = exercises.hint(name, level=level)
        spans = re.findall(r"`([^`]+)`", text)
        assert not [span for span in spans if len(span) > 30], f"hint {level} of {name} spells out code: {spans}"
        words = re.sub(r"`[^`]+`", "", text)
        assert not _code_marks(words), f"hint {level} of {name} has code outside backticks: {_code_marks(words)}"
        given = [line.text for line in SOLUTIONS if _squeezed(line.code) in _squeezed(text)]
        assert not given, f"hint {level} of {name} holds a solution line: {given}"
        # No code span computes what a solution line computes, up to names and sizes (find_leaks's rule).
        notebook = nbformat.v4.new_notebook(cells=[*solution_cells, nbformat.v4.new_markdown_cell(text)])
        assert find_leaks({"hint": notebook}) == [], f"hint {level} of {name} gives a solution line away"


def test_a_failed_check_offers_both_hints():
    unexplained = exercises.check("causal_mask", lambda t: torch.eye(t, dtype=torch.bool))
    assert f"Hint: {exercises.hint('causal_mask')}" in unexplained.message
    assert "exercises.hint('causal_mask', level=2) gives a closer hint" in unexplained.message
    named = exercises.check("causal_mask", lambda t: torch.ones(t, t, dtype=torch.bool))
    assert named.mistake == "all_true"
    assert "exercises.hint('causal_mask') for a nudge, exercises.hint('causal_mask', level=2)" in named.message


def test_a_stub_quotes_the_first_hint_and_points_to_the_second():
    teacher = nbformat.read(REPO_ROOT / "notebooks" / "02_masks.ipynb", as_version=4)
    stub = next(cell for cell in student_copy(teacher).cells if cell.metadata.get("exercise") == "causal_mask")
    namespace: dict = {}
    exec(stub.source, namespace)
    function = next(value for key, value in namespace.items() if key.startswith("my_"))
    with pytest.raises(NotImplementedError) as raised:
        function(3)
    assert exercises.hint("causal_mask") in str(raised.value)
    assert "exercises.hint('causal_mask', level=2)" in str(raised.value)


def test_a_failed_stop_in_a_script_prints_the_message_without_a_traceback(tmp_path):
    script = tmp_path / "lab.py"
    script.write_text(
        "import torch\nfrom minitransformers import exercises\n"
        "exercises.check('causal_mask', lambda t: torch.ones(t, t, dtype=torch.bool), stop=True)\n"
        "print('not reached')\n", encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, check=False)
    assert result.returncode == 1 and result.stdout == ""
    message = exercises.check("causal_mask", lambda t: torch.ones(t, t, dtype=torch.bool)).message
    assert result.stderr == f"ExerciseNotPassed: {message}\n"  # the message, and nothing else
    assert "bidirectional" in message and message.count("\n") == 2


def test_other_errors_in_a_script_keep_their_traceback(tmp_path):
    script = tmp_path / "lab.py"
    script.write_text(
        "import torch\nfrom minitransformers import exercises\n"
        "try:\n    exercises.check('causal_mask', lambda t: torch.ones(t, t, dtype=torch.bool), stop=True)\n"
        "except exercises.ExerciseNotPassed:\n    pass\n"
        "raise KeyError('mine')\n", encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, check=False)
    assert "Traceback" in result.stderr and "KeyError: 'mine'" in result.stderr


def test_in_ipython_the_exception_renders_as_its_message_and_a_note():
    # The kernel run of a student copy (tests/test_course.py) checks the same in a real notebook.
    error = exercises.ExerciseNotPassed("✗ causal_mask: trial 1 of 4\nYour mask ...")
    assert error._render_traceback_() == ["ExerciseNotPassed: ✗ causal_mask: trial 1 of 4", "Your mask ...",
                                          RERUN_NOTE]


@pytest.mark.parametrize("show", ["describe", "hint"])
def test_describe_and_hint_show_as_text_in_a_notebook_and_a_terminal(show):
    """As a cell's last line (Jupyter) or typed at ``>>>`` (a terminal), the text itself: no quotes, no \\n."""
    from IPython.core.formatters import PlainTextFormatter

    text = getattr(exercises, show)("causal_mask")
    plain_text = str(text)
    assert isinstance(text, str) and "\n" in exercises.describe("causal_mask")  # still a string, lines and all
    assert repr(text) == plain_text  # the terminal's display (sys.displayhook) shows repr
    assert PlainTextFormatter()(text) == plain_text  # what a Jupyter kernel shows under the cell
    assert "\\n" not in repr(exercises.describe("causal_mask")) and not repr(text).startswith("'")
    assert print_shown(text) == plain_text + "\n"  # print(...) too, in a script


def print_shown(text: str) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print(text)
    return out.getvalue()
