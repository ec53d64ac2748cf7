"""Run the student's function with a time limit, so that a loop that never ends cannot hang the notebook.

The function runs in a worker thread while the grader waits for it. A thread
works wherever ``check`` is called: on the main thread or off it, in a
script, in Jupyter and in nbgrader's autograde (a signal-based alarm would
work on the main thread only). Past the limit, the grader raises an exception
*inside* the worker (CPython's ``PyThreadState_SetAsyncExc``), which ends a
Python loop at its next step; a single long C call (one huge matmul, a
``sleep``) cannot be cut short and is left to finish on its own, in a daemon
thread that no longer holds anything of the grader's.

The worker inherits what the grader's thread has set for it: autograd off
(``torch.no_grad`` is per thread) and the context variables through which
Jupyter sends a thread's ``print`` to the running cell.
"""

from __future__ import annotations

import contextvars
import ctypes
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

# nbgrader stops a cell after 30 s by default (Execute.timeout); the grader's own verdict, which names the
# task, must come first. Twenty seconds is still a hundred times what any exercise needs.
DEFAULT_TIME_LIMIT = 20.0
TIME_LIMIT_VARIABLE = "MINITRANSFORMERS_CHECK_TIME_LIMIT"
_POLL = 0.05  # wait in short slices: a pending interrupt (Jupyter's, nbgrader's) is seen between them


class _StopStudentCode(BaseException):
    """Raised inside the worker to end the student's function; a BaseException, so ``except Exception`` lets it by."""


@dataclass
class Outcome:
    """What the student's function did: returned ``value``, raised ``error``, or ran past the limit."""

    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False


def time_limit_of(time_limit: float | None) -> float:
    """The limit in seconds: ``time_limit`` if given, else the environment's, else ``DEFAULT_TIME_LIMIT``."""
    if time_limit is None:
        setting = os.environ.get(TIME_LIMIT_VARIABLE)
        if setting is None:
            return DEFAULT_TIME_LIMIT
        try:
            time_limit = float(setting)
        except ValueError:
            raise ValueError(f"{TIME_LIMIT_VARIABLE}={setting!r} is not a number of seconds; set it to a "
                             f"positive number such as 60 (or inf for no limit), or unset it for "
                             f"{DEFAULT_TIME_LIMIT:g} s") from None
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)):
        raise TypeError(f"time_limit must be a positive number of seconds (or math.inf for none), got "
                        f"{type(time_limit).__name__} {time_limit!r}")
    if not time_limit > 0:  # also refuses NaN
        raise ValueError(f"time_limit must be a positive number of seconds (or math.inf for none), got {time_limit}")
    return float(time_limit)


def run_with_time_limit(function: Callable[..., Any], args: list[Any], seconds: float, task: str) -> Outcome:
    """Call ``function(*args)`` in a worker thread and wait at most ``seconds`` for it."""
    outcome, context, grad = Outcome(), contextvars.copy_context(), torch.is_grad_enabled()

    def work() -> None:
        try:
            with torch.set_grad_enabled(grad):
                outcome.value = context.run(function, *args)
        except _StopStudentCode:
            pass
        except BaseException as error:  # noqa: BLE001  (SystemExit included: the grader reports it)
            outcome.error = error

    worker = threading.Thread(target=work, name=f"minitransformers check: {task}", daemon=True)
    worker.start()
    deadline = time.monotonic() + seconds
    try:
        while worker.is_alive() and time.monotonic() < deadline:
            worker.join(min(_POLL, max(deadline - time.monotonic(), 0.0)) if math.isfinite(seconds) else _POLL)
    except BaseException:  # an interrupt while waiting: the student's code stops as well
        _stop(worker)
        raise
    if worker.is_alive():
        _stop(worker)
        return Outcome(timed_out=True)
    return outcome


def _stop(worker: threading.Thread) -> None:
    """End the worker's Python code with ``_StopStudentCode`` and give it a moment to unwind."""
    if worker.ident is None or not hasattr(ctypes, "pythonapi"):
        return
    for _ in range(8):  # again if the student's code caught it (a bare except:)
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(_StopStudentCode))
        worker.join(0.25)
        if not worker.is_alive():
            return
