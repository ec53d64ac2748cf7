"""Is the function handed to ``check`` the library's own? Then it matches by definition, and is refused.

The grader compares a student's function with the library, so the library's
function itself (``check("attention_scores", minitransformers.attention.attention_scores)``)
would always pass and teach nothing. It is recognised by where it was
defined: a function, class or method of the ``minitransformers`` package, also
under another name (an alias is the same object), inside ``functools.partial``
and behind any wrapper that points at it with ``__wrapped__`` (what
``functools.wraps`` leaves). A student's own function that *calls* the library
is the student's code and is graded on its answers like any other.
"""

from __future__ import annotations

import functools
from typing import Any

_PACKAGE = __name__.split(".")[0]  # "minitransformers"


def library_origin(function: Any) -> str | None:
    """``"minitransformers.attention.attention_scores"`` when ``function`` is the library's own; else None."""
    seen: set[int] = set()
    while function is not None and id(function) not in seen:
        seen.add(id(function))
        if isinstance(function, functools.partial):
            function = function.func
            continue
        function = getattr(function, "__func__", function)  # a bound method: its function
        name = _defined_in_library(function)
        if name:
            return name
        function = _attribute(function, "__wrapped__")
    return None


def _defined_in_library(function: Any) -> str | None:
    module = _attribute(function, "__module__")
    if not isinstance(module, str) or not (module == _PACKAGE or module.startswith(f"{_PACKAGE}.")):
        return None
    qualname = _attribute(function, "__qualname__") or type(function).__qualname__  # an instance: its class
    return f"{module}.{qualname}"


def _attribute(value: Any, name: str) -> Any:
    try:
        return getattr(value, name, None)
    except Exception:  # noqa: BLE001  (an object whose __getattr__ fails is nobody's library function)
        return None


def refusal(task: str, origin: str) -> str:
    """The message for a task given the library's own function."""
    return (f"✗ {task}: this is the library's own {origin}, so it matches the library by definition and says "
            f"nothing about your code. The task is to write it yourself: exercises.describe({task!r}) says what "
            f"it takes and returns, and exercises.hint({task!r}) gives a first nudge.")
