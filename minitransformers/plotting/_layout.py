"""Shared plumbing for the plotting functions: figure sizes, font sizes, selections and visible notes.

Promises every plot in this package keeps:

- It returns a ``matplotlib.figure.Figure`` and draws on an ``ax`` you pass
  (or a new figure). The new figure is detached from pyplot's list of open
  figures, so Jupyter shows it once (as the cell's value) and scripts that
  make hundreds of plots do not leak memory. Save it with ``fig.savefig``.
- A new figure is made for a slide: at ``DPI`` dots per inch it is at
  least ``MIN_SIDE`` inches (600 px) on its short side, at most
  ``MAX_WIDTH`` inches (1600 px) wide, and its text is at least
  ``MIN_FONT`` points. Font sizes follow the size of the panel they label.
- It is never silently unreadable: a sequence that is too long is cut, and
  tick labels that would overlap are left out, each time with a note
  written *in the figure* (text starting with ``NOTE_PREFIX``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from ._tokens import check_tokens, describe_input, readable_token, short_label  # noqa: F401 (re-exported)

NOTE_PREFIX = "Note:"
MAX_TOKENS = 64  # longest sequence drawn in full; longer ones are cut with a note
MAX_TICK_LABELS = 48  # more labels than this overlap at ordinary figure sizes

DPI = 100  # Jupyter shows a figure at its own dpi, so 100 dpi makes 1 inch = 100 screen pixels
MIN_SIDE = 6.0  # inches: 600 px on the short side at DPI
MAX_WIDTH = 16.0  # inches: 1600 px, the width of a slide; wider figures get shrunk, fonts with them
MIN_FONT = 9.0  # points: the smallest text a figure draws
MAX_FONT = 13.0  # points: tick labels stop growing here, however big the panel
TITLE_FONT = 13.0
LABEL_FONT = 11.0  # axis labels, colour bar labels, legends
LINE_SPACING = 1.25  # a row of labels needs this many times the font size


def new_figure(figsize: tuple[float, float], layout: str | None = None) -> Figure:
    """A figure at ``DPI`` that pyplot does not track (see the module docstring for why)."""
    fig = plt.figure(figsize=figsize, dpi=DPI, layout=layout)
    plt.close(fig)  # the Figure object stays usable: drawing, saving, showing as a cell value
    return fig


def figure_and_ax(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure owning ``ax``, or a new figure (constrained layout) with one axes."""
    if ax is not None:
        return ax.get_figure(), ax
    fig = new_figure(figsize, layout="constrained")
    return fig, fig.add_subplot(1, 1, 1)


def panel_inches(ax: Axes) -> tuple[float, float]:
    """The width and height of ``ax`` in inches, as laid out now."""
    extent = ax.get_window_extent()
    dpi = ax.figure.dpi  # a sub-figure reports its parent's dpi
    return extent.width / dpi, extent.height / dpi


def fit_font(space_inches: float, n_labels: int, largest: float = MAX_FONT) -> float:
    """The font size (points) at which ``n_labels`` stacked labels fill ``space_inches``, at most ``largest``.

    May be below ``MIN_FONT``: the caller then leaves labels out or says so.
    """
    return float(min(largest, 72 * space_inches / max(1, n_labels) / LINE_SPACING))


def text_inches(text: str, font: float) -> float:
    """Roughly how wide ``text`` is in inches at ``font`` points (DejaVu Sans averages 0.6 em)."""
    return 0.6 * font / 72 * len(text)


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


def check_selection(chosen: int | Sequence[int] | None, n: int, what: str) -> list[int]:
    """``layers=``/``heads=`` checked against the ``n`` there are; None = all, -1 = the last."""
    if chosen is None:
        return list(range(n))
    chosen = [chosen] if isinstance(chosen, (int, np.integer)) else list(chosen)
    if not chosen:
        raise ValueError(f"{what}=[] selects nothing; pass None for all {n} {what}, or some of 0..{n - 1}")
    for index in chosen:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -n <= index < n:
            raise IndexError(f"{what}={chosen}: {index!r} is not one of the {n} {what} 0..{n - 1} "
                             f"(or -1 for the last); pick from those")
    return [int(index) % n for index in chosen]


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


def wrap(text: str, width_inches: float, font: float = MIN_FONT) -> str:
    """``text`` broken into lines that fit ``width_inches`` at ``font`` points."""
    per_line = max(20, int(width_inches / (0.55 * font / 72)))  # 0.55 em: ordinary text, not labels
    return "\n".join(textwrap.fill(line, per_line) for line in text.split("\n"))


def heading(title: str, *lines: str | None) -> str:
    """A title, then the lines that say on what input and on which scale (None lines skipped)."""
    return "\n".join([title, *[line for line in lines if line]])


def set_token_ticks(
    ax: Axes,
    x_tokens: Sequence[str],
    y_tokens: Sequence[str] | None,
    max_labels: int | None = MAX_TICK_LABELS,
    font: float | None = None,
) -> str | None:
    """Label columns (and rows) with their tokens; too many labels for the panel: none, and a note returned.

    ``font`` None: the size at which the labels fill the panel (``fit_font``).
    """
    width, height = panel_inches(ax)
    notes = []
    for axis, tokens, rotation, room in ((ax.xaxis, x_tokens, 90, width), (ax.yaxis, y_tokens, 0, height)):
        if tokens is None:
            continue
        size = font if font is not None else fit_font(room, len(tokens))
        name = "key" if axis is ax.xaxis else "query"
        if max_labels is not None and len(tokens) > max_labels:
            notes.append(f"{len(tokens)} {name} tokens > {max_labels}")
        elif size < MIN_FONT:
            notes.append(f"{len(tokens)} {name} tokens do not fit this panel at {MIN_FONT:g} pt")
        else:
            axis.set_ticks(range(len(tokens)))
            axis.set_ticklabels(tokens, rotation=rotation, fontsize=size)
            continue
        axis.set_ticks([])
    if not notes:
        return None
    return f"{NOTE_PREFIX} tick labels left out ({', '.join(notes)})"


def style_colorbar(bar, label: str) -> None:
    """A colour bar's label and ticks at readable sizes."""
    bar.set_label(label, fontsize=LABEL_FONT)
    bar.ax.tick_params(labelsize=MIN_FONT + 1)


def notes_in(fig: Figure | SubFigure) -> list[str]:
    """Every note written in ``fig`` (tests and curious readers use it)."""
    texts = [text.get_text() for ax in fig.axes for text in ax.texts]
    texts += [ax.get_xlabel() for ax in fig.axes]
    texts += [text.get_text() for figure in [fig, *fig.subfigs] for text in figure.texts]
    for figure in [fig, *fig.subfigs]:
        suptitle = getattr(figure, "_suptitle", None)
        if suptitle is not None:
            texts.append(suptitle.get_text())
    notes = []
    for text in texts:
        in_note = False
        for line in text.split("\n"):
            if line.startswith(NOTE_PREFIX):
                notes.append(line)
                in_note = True
            elif in_note:  # a long note wrapped onto the next line (``wrap``): join it back
                notes[-1] += " " + line
    return notes

