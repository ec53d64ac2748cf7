"""The grader against a hostile student (issue 36, items 11-14): whatever the function does, ``check`` answers.

A function that exits, never returns, edits what it was given (deep inside a dict or a module) or
answers in another dtype gets a verdict that names what it did, never an escaped exception, a hang
or a silent pass.
"""

from __future__ import annotations

import sys

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
