"""A heat map of one head's attention weights, labelled with the tokens.

A row is a query token, a column a key token; a cell's colour is the share
of the query's attention that goes to that key (each row sums to 1). For
every head of every layer at once, see ``grid.plot_attention_grid``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._layout import (
    LABEL_FONT, MAX_FONT, MAX_TICK_LABELS, MAX_TOKENS, TITLE_FONT, add_note, as_matrix, check_tokens,
    cut, cut_note, describe_input, figure_and_ax, fit_font, heading, panel_inches, set_token_ticks,
    style_colorbar, text_inches, wrap,
)

ATTENTION_CMAP = "viridis"
ATTENTION_LABEL = "attention weight (share of the query's attention)"
SMALLEST_MAP, LARGEST_MAP = 5.0, 9.0  # inches: the side of the heat map in a new figure


def plot_attention(
    weights: torch.Tensor | np.ndarray,
    query_tokens: Sequence[str] | None = None,
    key_tokens: Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    colorbar: bool = True,
    max_tokens: int | None = MAX_TOKENS,
    max_tick_labels: int | None = MAX_TICK_LABELS,
    vmax: float | None = None,
    value_label: str = ATTENTION_LABEL,
    axis_labels: tuple[str, str] = ("query", "key"),
) -> Figure:
    """One head's weights ``(t, s)`` as a heat map with a colour bar.

    ``key_tokens`` default to ``query_tokens`` (self-attention). Pick a head
    from a model output with ``output.attentions[layer][example, head]``.
    The colours run from 0 to ``vmax`` (default: the largest weight), so two
    maps drawn with the same ``vmax`` share a scale; ``value_label`` names
    what the colours measure on the colour bar, ``axis_labels`` the rows and
    the columns. The title says what is drawn
    (``title``, default "attention weights") and on which tokens.
    """
    matrix = as_matrix(weights, "weights", "pick one example and head, e.g. attentions[0][0, 0]")
    queries = check_tokens(query_tokens, matrix.shape[0], "query tokens")
    keys = check_tokens(key_tokens if key_tokens is not None else query_tokens, matrix.shape[1],
                        "key tokens")
    t, s = cut(matrix.shape[0], max_tokens), cut(matrix.shape[1], max_tokens)
    font = None  # on a given axes: whatever fits its size
    if ax is None:
        side, label_room = map_size(max(t, s), max(queries[:t] + keys[:s], key=len))
        font = fit_font(side, max(t, s))
        fig, ax = figure_and_ax(None, (side + label_room + (1.6 if colorbar else 0.2),
                                       side + label_room + 1.2))
    else:
        fig = ax.get_figure()
    image = ax.imshow(matrix[:t, :s], cmap=ATTENTION_CMAP, vmin=0.0, vmax=vmax, interpolation="nearest")
    ax.set_ylabel(axis_labels[0], fontsize=LABEL_FONT)
    ax.set_xlabel(axis_labels[1], fontsize=LABEL_FONT)
    tick_note = set_token_ticks(ax, keys[:s], queries[:t], max_tick_labels, font=font)
    add_note(ax, cut_note(matrix.shape, (t, s)), tick_note)
    if colorbar:
        style_colorbar(fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04), value_label)
    described = describe_input(query_tokens, matrix.shape[0])
    width = panel_inches(ax)[0]
    ax.set_title(heading(title or "attention weights", described and wrap(described, width, TITLE_FONT)),
                 fontsize=TITLE_FONT)
    return fig


def map_size(n_tokens: int, longest_label: str) -> tuple[float, float]:
    """Inches for a new heat map of ``n_tokens``: its side, and the room its token labels take."""
    side = float(np.clip(0.19 * n_tokens, SMALLEST_MAP, LARGEST_MAP))
    return side, text_inches(longest_label, min(fit_font(side, n_tokens), MAX_FONT)) + 0.6
