"""How a failed ``check(..., stop=True)`` stops a notebook or a script: the grader's message, no traceback.

The message already says which task failed and why; a traceback through the
grader's own code would only bury it. In IPython and Jupyter an exception's
``_render_traceback_`` replaces the traceback, so the cell shows the message
alone. A plain ``python script.py`` prints tracebacks through
``sys.excepthook``: the first failed check wraps that hook once, so that this
exception prints as its message and every other exception as before.
"""

from __future__ import annotations

import sys


class ExerciseNotPassed(AssertionError):
    """Raised by ``check(..., stop=True)``: a notebook run stops at the first task not yet solved."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting a traceback: the lines it shows under the cell.
        return f"ExerciseNotPassed: {self}".splitlines() + [RERUN_NOTE]


RERUN_NOTE = "(Fix your function above and run this cell again.)"


def _print_without_traceback(previous_hook):
    def hook(kind, error, traceback):
        if issubclass(kind, ExerciseNotPassed):
            sys.stderr.write(f"ExerciseNotPassed: {error}\n")
        else:
            previous_hook(kind, error, traceback)

    hook.minitransformers_exercises = True  # so that it is installed once
    return hook


def raise_stop(message: str) -> None:
    """Raise ``ExerciseNotPassed(message)``, shown without a traceback in a notebook and in a script."""
    if not getattr(sys.excepthook, "minitransformers_exercises", False):
        sys.excepthook = _print_without_traceback(sys.excepthook)
    raise ExerciseNotPassed(message) from None
