"""One check, trial by trial: random inputs, the library's answer, the student's, and the verdict in words.

Each trial gives the reference and the student their own copies of the
inputs (deep ones, ``inputs.py``), runs the student's function with a time limit (``time_limit.py``),
then asks in the order a student debugs in: did it run, did it leave its
inputs alone, does the answer match (``feedback.py``)? A wrong answer is
compared with each typical mistake of the exercise, so that the message can
name it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .exercise import Exercise
from .feedback import CheckResult, compare, describe_inputs, matches, plain
from .hints import HINTS
from .inputs import cloned, inputs_changed
from .time_limit import TIME_LIMIT_VARIABLE, run_with_time_limit


def hint_offer(name: str, with_nudge: bool = True) -> str:
    """The end of every failure message: the first hint (unless a named mistake says more), and the second."""
    if not with_nudge:
        return f"Hints: exercises.hint({name!r}) for a nudge, exercises.hint({name!r}, level=2) for a closer one."
    return f"Hint: {HINTS[name][0]}\nStill stuck? exercises.hint({name!r}, level=2) gives a closer hint."


def _raised(error: BaseException) -> str:
    """The feedback line for an error the student's function raised."""
    line = f"Your function raised {type(error).__name__}: {error}"
    if isinstance(error, SystemExit):
        line += (" (sys.exit() or exit() ends the whole program; a function for a check returns its answer, "
                 "and raises an error to say something is wrong)")
    return line


def _timed_out(name: str, seconds: float) -> str:
    return (f"Your function was still running after {seconds:g} s, the time limit of one trial, so the check "
            f"stopped it. A loop whose condition never becomes false is the usual cause (a while loop whose "
            f"counter is never updated). If your function is only slow, give it more time: "
            f"exercises.check({name!r}, ..., time_limit=120), or set {TIME_LIMIT_VARIABLE}.")


def _modified(changed: str) -> str:
    return (f"Your function changed its input {changed} in place (an operation ending in _, such as "
            f"masked_fill_ or zero_, x += ..., or an assignment to an entry or attribute of what it was given): "
            f"the caller's tensor, dict, module or config changes too. Compute new values instead "
            f"(masked_fill, x = x + ...) and leave what you were given as it was.")


def grade(exercise: Exercise, student_function: Callable[..., Any], seed: int, time_limit: float) -> CheckResult:
    """Every trial of ``exercise`` on ``student_function``; the first failing trial gives the verdict."""
    name = exercise.name
    generator = torch.Generator().manual_seed(seed)
    for trial in range(exercise.n_trials):
        inputs = exercise.make_inputs(generator, trial)
        header = f"✗ {name}: trial {trial + 1} of {exercise.n_trials} (inputs: {describe_inputs(inputs)})"
        with torch.no_grad():
            expected = exercise.reference(*cloned(inputs))
            given = cloned(inputs)
            try:
                outcome = run_with_time_limit(student_function, given, time_limit, name)
            except KeyboardInterrupt:  # the user's, or nbgrader's at its cell timeout: say where it struck
                raise KeyboardInterrupt(f"exercises.check({name!r}) was interrupted during trial {trial + 1} of "
                                        f"{exercise.n_trials}; your function was stopped") from None
            if outcome.timed_out:
                return CheckResult(name, False, f"{header}\n{_timed_out(name, time_limit)}\n{hint_offer(name, False)}",
                                   mistake="time_limit")
            error = outcome.error
            if isinstance(error, KeyboardInterrupt):  # the student's own interrupt stops the check too
                raise error
            if isinstance(error, NotImplementedError):  # a stub from the student copies: the task is still to do
                return CheckResult(name, False, f"✗ {name}: not written yet (NotImplementedError: {error})")
            # Any other error is the student code's, not the checker's: report it as feedback. SystemExit too
            # (sys.exit(), exit()): escaping, it would end the script or the cell.
            if error is not None:
                return CheckResult(name, False, f"{header}\n{_raised(error)}\n{hint_offer(name)}")
            got = plain(outcome.value)  # plain tensors: a subclass cannot answer for itself
            changed = inputs_changed(inputs, given)
            if changed:
                return CheckResult(name, False, f"{header}\n{_modified(changed)}\n{hint_offer(name, False)}",
                                   mistake="modified_input")
            problem = compare(expected, got, exercise.output_names)
            if problem is None:
                continue
            if getattr(problem, "mistake", None):  # compare named it already (a dtype)
                return CheckResult(name, False, f"{header}\n{problem}\n{hint_offer(name, False)}",
                                   mistake=problem.mistake)
            for mistake in exercise.mistakes:
                if matches(mistake.produce(*cloned(inputs)), got, exercise.output_names):
                    return CheckResult(name, False, f"{header}\n{mistake.message}\n{hint_offer(name, False)}",
                                       mistake=mistake.name)
        return CheckResult(name, False, f"{header}\n{problem}\n{hint_offer(name)}")
    return CheckResult(name, True, f"✓ {name}: all {exercise.n_trials} trials match the library.")
