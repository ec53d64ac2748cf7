"""Ctrl-C while the ``minitransformers`` command is still starting: one line, exit status 130.

Importing torch takes about a second, and it happens in this package's
``__init__``, before ``cli.main`` (which handles Ctrl-C) can run. A user who
presses Ctrl-C then should see ``interrupted``, not forty lines of import
machinery. So when this package is imported *as the command* (``python -m
minitransformers`` or the ``minitransformers`` script), a SIGINT handler
that exits at once is installed for the imports; ``cli.main`` puts Python's
own handler back as soon as it starts. Imported as a library, nothing changes.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def _started_as_the_command() -> bool:
    # While ``python -m pkg`` imports ``pkg``, argv[0] is still "-m"; the script's name is its own.
    first = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return first in ("-m", "minitransformers", "minitransformers.exe")


def _exit_quietly(signum, frame) -> None:  # noqa: ARG001 -- the signal handler's signature
    sys.stderr.write("minitransformers: interrupted\n")
    os._exit(130)  # no cleanup to do yet: nothing has been opened or written


def quiet_interrupt_while_starting() -> None:
    """Install the exit-at-once handler if this process is the command line (main thread only)."""
    if _started_as_the_command():
        try:
            signal.signal(signal.SIGINT, _exit_quietly)
        except ValueError:  # not the main thread: leave signals alone
            pass


def restore_interrupt() -> None:
    """From here on Ctrl-C raises ``KeyboardInterrupt`` again (``cli.main`` turns it into one line)."""
    if signal.getsignal(signal.SIGINT) is _exit_quietly:
        signal.signal(signal.SIGINT, signal.default_int_handler)
