"""Exercise mode: write a piece of the transformer yourself and have it checked against the library.

::

    from minitransformers import exercises

    exercises.list_exercises()                 # ['attention_scores', 'masking', ...]
    exercises.describe("attention_scores")     # the statement, shown as text (print it in a script)

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
function that changes its inputs in place fails, whatever it returns, and
the library's own function is refused (``own_work.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .catalog import EXERCISES, Exercise
from .feedback import CheckResult, Text
from .grading import grade
from .hints import HINTS
from .own_work import library_origin, refusal
from .stop import ExerciseNotPassed, raise_stop
from .time_limit import DEFAULT_TIME_LIMIT, time_limit_of

__all__ = ["DEFAULT_TIME_LIMIT", "CheckResult", "ExerciseNotPassed", "check", "describe", "hint", "list_exercises"]


def list_exercises() -> list[str]:
    """The exercise names, in course order."""
    return list(EXERCISES)


def _get(name: str) -> Exercise:
    if name not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r}; choose one of {list_exercises()}")
    return EXERCISES[name]


def describe(name: str) -> Text:
    """The statement of an exercise: what to write, its arguments and their shapes.

    A ``str`` that a notebook cell or a ``>>>`` prompt shows as text; ``print`` it elsewhere.
    """
    return Text(_get(name).statement.rstrip())  # no trailing indent from the triple-quoted source


def hint(name: str, level: int = 1) -> Text:
    """A hint for an exercise: ``level=1`` a first nudge in words, ``level=2`` a closer one; never the answer.

    Shown as text like ``describe``'s statement.
    """
    _get(name)
    if level not in (1, 2):
        raise ValueError(f"hint level {level!r} does not exist; use level=1 (a nudge) or level=2 (closer)")
    return Text(HINTS[name][level - 1])


def check(name: str, student_function: Callable[..., Any], seed: int = 0, *, stop: bool = False,
          time_limit: float | None = None) -> CheckResult:
    """Run ``student_function`` on random inputs and compare it with the library's answer.

    With ``stop=True`` a failed check raises ``ExerciseNotPassed`` carrying the same message, so
    that "Run all" in a notebook halts at the task to do instead of failing later, far from it.
    The message is shown without a traceback, in a notebook and in a script.

    Each trial may run ``time_limit`` seconds (default: the environment variable
    ``MINITRANSFORMERS_CHECK_TIME_LIMIT``, else ``DEFAULT_TIME_LIMIT``; ``math.inf`` for none);
    a function still running then is stopped and the check fails, naming the task.
    """
    exercise = _get(name)
    seconds = time_limit_of(time_limit)
    if not callable(student_function):
        raise TypeError(f"check needs your function itself, got {type(student_function).__name__}")
    origin = library_origin(student_function)
    if origin is not None:  # the library compared with itself would pass whatever the student knows
        result = CheckResult(name, False, refusal(name, origin), mistake="library_function")
    else:
        result = grade(exercise, student_function, seed, seconds)
    if stop and not result.passed:
        raise_stop(result.message)
    return result
