"""Shared plumbing for the plotting functions: figures, token tick labels, and visible notes.

Two promises every plot in this package keeps:

- It returns a ``matplotlib.figure.Figure`` and draws on an ``ax`` you pass
  (or a new figure). The new figure is detached from pyplot's list of open
  figures, so Jupyter shows it once (as the cell's value) and scripts that
  make hundreds of plots do not leak memory. Save it with ``fig.savefig``.
- It is never silently unreadable: a sequence that is too long is cut, and
  tick labels that would overlap are left out, each time with a note
  written *in the figure* (text starting with ``NOTE_PREFIX``).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

NOTE_PREFIX = "Note:"
MAX_TOKENS = 64  # longest sequence drawn in full; longer ones are cut with a note
MAX_TICK_LABELS = 48  # more labels than this overlap at ordinary figure sizes


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure that pyplot does not track (see the module docstring for why)."""
    fig = plt.figure(figsize=figsize)
    plt.close(fig)  # the Figure object stays usable: drawing, saving, showing as a cell value
    return fig


def figure_and_ax(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure owning ``ax``, or a new figure with one axes."""
    if ax is not None:
        return ax.get_figure(), ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot(1, 1, 1)


def as_matrix(values, what: str, hint: str) -> np.ndarray:
    """A tensor/array with leading size-1 dimensions dropped, checked to be 2-D ``(t, s)``."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().float().numpy()
    array = np.asarray(values)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ValueError(f"{what} must be 2-D (query positions, key positions), got shape "
                         f"{tuple(array.shape)}; {hint}")
    return array


# Byte-level BPE (GPT-2) writes a space as "Ġ", a newline as "Ċ" and a tab as "ĉ" inside its tokens.
_BYTE_LEVEL_MARKS = {"Ġ": "␣", "Ċ": "↵", "ĉ": "⇥"}


def readable_token(token: str) -> str:
    """A label a reader can read: ``"Ġking"`` -> ``"king"`` (a word's leading space is dropped, as
    ``tokenizer.display_tokens`` does), a bare ``"Ġ"`` -> ``"␣"``, ``"Ċ"`` -> ``"↵"``."""
    token = str(token)
    if token.startswith("Ġ") and len(token) > 1 and token[1] not in _BYTE_LEVEL_MARKS:
        token = token[1:]
    for mark, shown in _BYTE_LEVEL_MARKS.items():
        token = token.replace(mark, shown)
    return token


def check_tokens(tokens: Sequence[str] | None, n: int, what: str) -> list[str]:
    """Readable tokens (``readable_token``), one per position; positions get their index when ``tokens`` is None."""
    if tokens is None:
        return [str(i) for i in range(n)]
    tokens = [readable_token(token) for token in tokens]
    if len(tokens) != n:
        raise ValueError(f"got {len(tokens)} {what} for {n} positions; pass one token per position")
    return tokens


def cut(n: int, max_tokens: int | None) -> int:
    """How many positions to draw out of ``n``."""
    return n if max_tokens is None else min(n, max_tokens)


def cut_note(shape: tuple[int, int], kept: tuple[int, int]) -> str | None:
    """The note that says a matrix was cut, or None when it was drawn whole."""
    if tuple(shape) == tuple(kept):
        return None
    return (f"{NOTE_PREFIX} showing the first {kept[0]} x {kept[1]} of {shape[0]} x {shape[1]} "
            f"positions (pass max_tokens=None to draw all)")


def add_note(ax: Axes, *notes: str | None) -> None:
    """Append notes as extra lines of the x-axis label (matplotlib keeps it below the ticks)."""
    lines = [note for note in notes if note]
    if lines:
        label = ax.get_xlabel()
        ax.set_xlabel("\n".join([label, *lines] if label else lines))


def set_token_ticks(
    ax: Axes,
    x_tokens: Sequence[str],
    y_tokens: Sequence[str] | None,
    max_labels: int | None = MAX_TICK_LABELS,
) -> str | None:
    """Label columns (and rows) with their tokens; too many labels: none, and a note returned."""
    notes = []
    for axis, tokens, rotation in ((ax.xaxis, x_tokens, 90), (ax.yaxis, y_tokens, 0)):
        if tokens is None:
            continue
        if max_labels is not None and len(tokens) > max_labels:
            axis.set_ticks([])
            notes.append(f"{len(tokens)} {'key' if axis is ax.xaxis else 'query'} tokens")
            continue
        axis.set_ticks(range(len(tokens)))
        axis.set_ticklabels(tokens, rotation=rotation, fontsize=_font_size(len(tokens)))
    if not notes:
        return None
    return f"{NOTE_PREFIX} tick labels left out ({', '.join(notes)} > {max_labels})"


def _font_size(n_labels: int) -> float:
    """Smaller labels for longer sequences, never below readable."""
    return float(np.clip(12 - n_labels / 6, 6, 10))


def square_size(n: int, base: float = 3.0, per_token: float = 0.28, cap: float = 12.0) -> float:
    """A side length in inches that grows with the number of tokens, within reason."""
    return float(min(cap, base + per_token * n))


def notes_in(fig: Figure) -> list[str]:
    """Every note written in ``fig`` (tests and curious readers use it)."""
    texts = [text.get_text() for ax in fig.axes for text in ax.texts]
    texts += [ax.get_xlabel() for ax in fig.axes] + [text.get_text() for text in fig.texts]
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None:
        texts.append(suptitle.get_text())
    lines = [line for text in texts for line in text.split("\n")]
    return [line for line in lines if line.startswith(NOTE_PREFIX)]
