"""Exercise mode: write a piece of the transformer yourself and have it checked against the library.

::

    from minitransformers import exercises

    exercises.list_exercises()                 # ['attention_scores', 'masking', ...]
    print(exercises.describe("attention_scores"))

    def attention_scores(q, k):
        return q @ k.transpose(-2, -1)         # forgot something?

    exercises.check("attention_scores", attention_scores)
    # ✗ attention_scores: trial 1 of 4 (inputs: q (2, 3, 4, 8), k (2, 3, 4, 8))
    #   Your scores are not divided by sqrt(d) ...
    exercises.hint("attention_scores")          # a first nudge, in words
    exercises.hint("attention_scores", level=2) # a closer hint (never the answer)

The function is called on random inputs of several sizes and its result is
compared with the library's own code (the reference solution *is* the
library). ``check`` returns a ``CheckResult``: true when every trial
passed; its message says which shape or which values differ, names the
mistake when it is a typical one, and offers the hints (``hints.py``). A
function that changes its inputs in place fails, whatever it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .catalog import EXERCISES, Exercise
from .feedback import CheckResult, compare, describe_inputs, matches, plain, tensors_changed
from .hints import HINTS
from .stop import ExerciseNotPassed, raise_stop

__all__ = ["CheckResult", "ExerciseNotPassed", "check", "describe", "hint", "list_exercises"]


def list_exercises() -> list[str]:
    """The exercise names, in course order."""
    return list(EXERCISES)


def _get(name: str) -> Exercise:
    if name not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r}; choose one of {list_exercises()}")
    return EXERCISES[name]


def describe(name: str) -> str:
    """The statement of an exercise: what to write, its arguments and their shapes."""
    return _get(name).statement


def hint(name: str, level: int = 1) -> str:
    """A hint for an exercise: ``level=1`` a first nudge in words, ``level=2`` a closer one; never the answer."""
    _get(name)
    if level not in (1, 2):
        raise ValueError(f"hint level {level!r} does not exist; use level=1 (a nudge) or level=2 (closer)")
    return HINTS[name][level - 1]


def _hint_offer(name: str, with_nudge: bool = True) -> str:
    """The end of every failure message: the first hint (unless a named mistake says more), and the second."""
    if not with_nudge:
        return f"Hints: exercises.hint({name!r}) for a nudge, exercises.hint({name!r}, level=2) for a closer one."
    return f"Hint: {hint(name)}\nStill stuck? exercises.hint({name!r}, level=2) gives a closer hint."


def _raised(error: BaseException) -> str:
    """The feedback line for an error the student's function raised."""
    line = f"Your function raised {type(error).__name__}: {error}"
    if isinstance(error, SystemExit):
        line += (" (sys.exit() or exit() ends the whole program; a function for a check returns its answer, "
                 "and raises an error to say something is wrong)")
    return line


def _cloned(inputs: dict[str, Any]) -> list[Any]:
    # Fresh copies for each caller, so an in-place edit by one cannot change what the other sees.
    return [value.clone() if isinstance(value, torch.Tensor) else value for value in inputs.values()]


def check(name: str, student_function: Callable[..., Any], seed: int = 0, *, stop: bool = False) -> CheckResult:
    """Run ``student_function`` on random inputs and compare it with the library's answer.

    With ``stop=True`` a failed check raises ``ExerciseNotPassed`` carrying the same message, so
    that "Run all" in a notebook halts at the task to do instead of failing later, far from it.
    The message is shown without a traceback, in a notebook and in a script.
    """
    result = _check(name, student_function, seed)
    if stop and not result.passed:
        raise_stop(result.message)
    return result


def _check(name: str, student_function: Callable[..., Any], seed: int) -> CheckResult:
    exercise = _get(name)
    if not callable(student_function):
        raise TypeError(f"check needs your function itself, got {type(student_function).__name__}")
    generator = torch.Generator().manual_seed(seed)
    for trial in range(exercise.n_trials):
        inputs = exercise.make_inputs(generator, trial)
        header = f"✗ {name}: trial {trial + 1} of {exercise.n_trials} (inputs: {describe_inputs(inputs)})"
        with torch.no_grad():
            expected = exercise.reference(*_cloned(inputs))
            given = _cloned(inputs)
            try:
                got = plain(student_function(*given))  # plain tensors: a subclass cannot answer for itself
            except NotImplementedError as error:  # a stub from the student copies: the task is still to do
                return CheckResult(name, False, f"✗ {name}: not written yet (NotImplementedError: {error})")
            # Any error is the student code's, not the checker's: report it as feedback. SystemExit too
            # (sys.exit(), exit()): it is no Exception, and escaping would end the script or the cell.
            except (Exception, SystemExit) as error:  # noqa: BLE001
                return CheckResult(name, False, f"{header}\n{_raised(error)}\n{_hint_offer(name)}")
            changed = tensors_changed(inputs, given)
            if changed:
                return CheckResult(name, False, f"{header}\nYour function changed its input {changed} in place "
                                   f"(an operation ending in _, such as masked_fill_, or x += ...): the caller's "
                                   f"tensor changes too. Use the version that returns a new tensor "
                                   f"(masked_fill, x = x + ...).\n{_hint_offer(name, False)}", mistake="modified_input")
            problem = compare(expected, got, exercise.output_names)
            if problem is None:
                continue
            for mistake in exercise.mistakes:
                if matches(mistake.produce(*_cloned(inputs)), got, exercise.output_names):
                    return CheckResult(name, False, f"{header}\n{mistake.message}\n{_hint_offer(name, False)}",
                                       mistake=mistake.name)
        return CheckResult(name, False, f"{header}\n{problem}\n{_hint_offer(name)}")
    return CheckResult(name, True, f"✓ {name}: all {exercise.n_trials} trials match the library.")
