"""Sizes for a grid of heat maps: how big a panel is, how big its text, and the margins around it.

The rules, in order: a new figure is at most ``MAX_WIDTH`` wide and at
least ``MIN_SIDE`` on each side, and as tall as a 16:9 slide when the width
allows; a panel is big enough for its token names at ``MIN_FONT`` points,
or the names give way to position numbers; margins leave room for the
labels, the title, the colour bar and the note under the grid. Fonts then
follow the panel: bigger panels, bigger labels, up to ``MAX_FONT``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._layout import (
    LINE_SPACING, MAX_FONT, MAX_WIDTH, MIN_FONT, MIN_SIDE, TITLE_FONT, fit_font, text_inches, wrap,
)

LARGEST_CELL = 7.0  # inches: one panel alone on a slide
COLORBAR_ROOM = 1.3  # inches right of the panels: the bar, its numbers and its label
GAP = 0.08  # space between panels, as a share of a panel's side
SLIDE_HEIGHT = 9.0  # inches: a 16:9 slide MAX_WIDTH wide
SMALLEST_CELL = 0.2  # inches: in a figure too small for its grid, panels shrink to this and no further


@dataclass
class GridLayout:
    """Where the panels go and how big their text is, in inches and points."""

    rows: int
    columns: int
    wrapped: bool  # one layer's heads (or one head's layers) spread over several rows
    cell: float  # side of one panel
    labelled: bool  # token names on the outer ticks (else position numbers)
    tick_font: float
    panel_font: float
    left: float
    right: float
    top: float
    bottom: float

    @property
    def title_gap(self) -> float:
        """Inches between rows for the panel titles of a wrapped grid."""
        return self.wrapped * 1.8 * self.panel_font / 72

    @property
    def size(self) -> tuple[float, float]:
        """Width and height of the whole grid with its margins, in inches."""
        return (self.left + self.right + self.cell * (self.columns + GAP * (self.columns - 1)),
                self.top + self.bottom + self.cell * (self.rows + GAP * (self.rows - 1))
                + self.title_gap * (self.rows - 1))


def plan_grid(n_layers: int, n_heads: int, n_tokens: int, longest_label: str, *, max_labels: int,
              colorbar: bool, title_lines: int, note: str = "",
              space: tuple[float, float] | None = None, cell: float | None = None,
              max_width: float = MAX_WIDTH) -> GridLayout:
    """Sizes for ``n_layers x n_heads`` panels of ``n_tokens`` tokens.

    In ``space`` (inches, a given figure) when given, else for a new figure
    at most ``max_width`` wide, at least ``MIN_SIDE`` on each side, and as
    tall as a slide when the width allows. ``cell``: the largest panel side
    wanted. ``note``: the note written under the grid when the ticks cannot name the tokens.
    """
    panels = n_layers * n_heads
    wrapped = min(n_layers, n_heads) == 1 and panels >= 4
    columns = math.ceil(math.sqrt(panels)) if wrapped else n_heads
    rows = math.ceil(panels / columns) if wrapped else n_layers
    labelled = n_tokens <= max_labels
    tick_font, panel_font = MIN_FONT, MAX_FONT
    width, height = space if space is not None else (max_width, None)
    for _ in range(4):  # margins depend on the fonts, the fonts on the cell, the cell on the margins
        room = text_inches(longest_label if labelled else str(n_tokens - 1), tick_font) + 0.15
        left = 0.2 + 1.5 * panel_font / 72 + room
        right = 0.2 + (COLORBAR_ROOM if colorbar else 0.0)
        top = 0.2 + (title_lines * 1.3 * TITLE_FONT + 1.6 * panel_font) / 72
        note_lines = 0 if labelled or not note else wrap(note, width - 0.3).count("\n") + 1
        bottom = 0.25 + room + note_lines * 1.3 * MIN_FONT / 72
        title_gap = wrapped * 1.8 * panel_font / 72 * (rows - 1)
        widest = (width - left - right) / (columns + GAP * (columns - 1))
        if space is not None:
            fitted_cell = min(widest, (height - top - bottom - title_gap) / (rows + GAP * (rows - 1)))
        else:
            wanted = max((SLIDE_HEIGHT - top - bottom - title_gap) / rows,  # a slide's height, if wide enough
                         (MIN_SIDE - top - bottom - title_gap) / rows, (MIN_SIDE - left - right) / columns,
                         n_tokens * MIN_FONT * LINE_SPACING / 72 if labelled else 0.9)
            fitted_cell = min(widest, LARGEST_CELL, wanted)
        chosen = max(SMALLEST_CELL, fitted_cell if cell is None else min(fitted_cell, cell))
        fitted = fit_font(chosen, n_tokens)
        labelled = labelled and fitted >= MIN_FONT
        tick_font = fitted if labelled else MIN_FONT
        panel_font = float(np.clip(8 * chosen, MIN_FONT, MAX_FONT))
        if space is None:  # the note wraps to the width this figure will have
            width = left + right + chosen * (columns + GAP * (columns - 1))
    return GridLayout(rows, columns, wrapped, chosen, labelled, tick_font, panel_font, left, right, top, bottom)
