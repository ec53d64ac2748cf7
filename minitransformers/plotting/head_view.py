"""The "head view": a line from each query token to every key it attends to, one head per panel.

Queries are listed on the left of a panel, keys on the right (the same
tokens, for self-attention). The opacity of the line from query ``i`` to
key ``j`` is the weight ``w[i, j]``, so a sharp head draws a few dark lines
(e.g. each token to the one before it) and a diffuse head a grey haze.
Each head gets its own panel, in its own colour: drawn on top of each
other, six heads' lines blend into one brown tangle.

The result is a plain matplotlib ``Figure``: ``fig.savefig("head.pdf")``
gives a vector drawing for slides or a paper, ``"head.png"`` a picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure, SubFigure

from ._layout import (
    LABEL_FONT, LINE_SPACING, MAX_TOKENS, MAX_WIDTH, MIN_FONT, MIN_SIDE, NOTE_PREFIX, TITLE_FONT, add_note,
    check_selection, check_tokens, cut, cut_note, describe_input, fit_font, heading, new_figure,
    panel_inches, short_label, text_inches, wrap,
)

HEAD_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
                "#17becf", "#7f7f7f", "#bcbd22", "#393b79", "#637939")
MIN_WEIGHT = 0.01  # lines fainter than this are not drawn: invisible anyway, and they bloat PDFs
LINE_SPAN = 1.6  # inches between the query column and the key column
ROW_SPACING = 1.5  # a token row is this many times the font size high


def _heads_array(weights) -> np.ndarray:
    """``(t, s)`` or ``(h, t, s)`` (leading size-1 dimensions dropped) -> ``(h, t, s)``."""
    array = weights.detach().cpu().float().numpy() if isinstance(weights, torch.Tensor) else weights
    array = np.asarray(array)
    while array.ndim > 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"head view needs weights (t, s) or (heads, t, s), got shape "
                         f"{tuple(array.shape)}; pick one example, e.g. attentions[layer][0]")
    return array


def plot_head_view(
    weights: torch.Tensor | np.ndarray,
    tokens: Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    key_tokens: Sequence[str] | None = None,
    heads: int | Sequence[int] | None = None,
    query: int | None = None,
    title: str | None = None,
    max_tokens: int | None = MAX_TOKENS,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Lines from queries (left) to keys (right), opacity = attention weight, one panel per head.

    ``weights`` is one head ``(t, s)`` or several ``(h, t, s)`` (e.g.
    ``output.attentions[layer][0]``); ``heads`` picks which to draw (all by
    default). ``query`` draws only that query's lines, to follow one token.
    Draws in a new figure, in ``fig`` (a figure or sub-figure), or in ``ax``
    (several heads split it into panels, ``ax.child_axes``). ``fig.axes[k]``
    is the k-th head drawn, its lines in ``fig.axes[k].collections[0]``.
    """
    per_head = _heads_array(weights)
    n_heads, t_all, s_all = per_head.shape
    heads = check_selection(heads, n_heads, "heads")
    queries = [short_label(q) for q in check_tokens(tokens, t_all, "query tokens")]
    keys = [short_label(k) for k in check_tokens(key_tokens if key_tokens is not None else tokens, s_all,
                                                  "key tokens")]
    t, s = cut(t_all, max_tokens), cut(s_all, max_tokens)
    if query is not None and not 0 <= query < t:
        raise IndexError(f"query={query} is outside the {t} query positions drawn; pick 0..{t - 1}")
    rows = max(t, s)
    longest = max(queries[:t] + keys[:s], key=len)
    what = heading(title or "Head view: each query (left) to the keys it attends to (right), "
                            "darker line = more attention", describe_input(tokens, t_all))

    panel_width = 2 * text_inches(longest, LABEL_FONT) + LINE_SPAN + 0.3
    columns = max(1, min(len(heads), int((MAX_WIDTH - 0.2) // panel_width)))
    columns = math.ceil(len(heads) / math.ceil(len(heads) / columns))  # balanced rows
    grid_rows = math.ceil(len(heads) / columns)
    sized_here = ax is None and fig is None
    if sized_here:
        panel_height = max((rows + 3) * ROW_SPACING * LABEL_FONT / 72, (MIN_SIDE - 1.0) / grid_rows)
        width = max(columns * panel_width + 0.4, MIN_SIDE)
        fig = new_figure((width, grid_rows * panel_height + 1.0), layout="constrained")
    if ax is not None:  # one axes: split it into one inset panel per head
        owner, panels = ax.get_figure(), _split(ax, grid_rows, columns, len(heads))
    else:
        owner = fig
        panels = list(np.ravel(fig.subplots(grid_rows, columns, squeeze=False)))
        for extra in panels[len(heads):]:
            fig.delaxes(extra)
    width_inches = panel_inches(panels[0])[0] * columns
    if ax is not None:  # the heading goes above the given axes, wherever it sits in its figure
        ax.set_title(wrap(what, width_inches, LABEL_FONT), fontsize=LABEL_FONT, pad=24 * (len(heads) > 1))
    else:
        owner.suptitle(wrap(what, max(width_inches, 3.0), TITLE_FONT), fontsize=TITLE_FONT)
    # Sized here, the panels fit LABEL_FONT; given panels get the font that fits their height.
    font = LABEL_FONT if sized_here else (
        fit_font(panel_inches(panels[0])[1], rows + 3, largest=LABEL_FONT) * LINE_SPACING / ROW_SPACING)
    for panel, head in zip(panels, heads, strict=False):
        _draw_head(panel, per_head[head, :t, :s], queries[:t], keys[:s], head, query, max(font, MIN_FONT))
    notes = [cut_note((t_all, s_all), (t, s))]
    if font < MIN_FONT:
        notes.append(f"{NOTE_PREFIX} {rows} tokens are too many for panels this small and the labels "
                     f"overlap: draw in a new figure (no ax=), or pick fewer heads (heads=)")
    add_note(panels[-1], *[note and wrap(note, width_inches) for note in notes])
    return owner


def _split(ax: Axes, rows: int, columns: int, n: int) -> list[Axes]:
    """``n`` panels laid out inside ``ax`` (whose own frame is hidden); ``[ax]`` itself for one."""
    if n == 1:
        return [ax]
    ax.axis("off")
    width, height = 1 / columns, 1 / rows
    return [ax.inset_axes((column * width, 1 - (row + 1) * height, width * 0.96, height * 0.92))
            for row, column in (divmod(k, columns) for k in range(n))]


def _draw_head(ax: Axes, weights: np.ndarray, queries: list[str], keys: list[str], head: int,
               query: int | None, font: float) -> None:
    """One head's lines in ``ax``, with the query tokens left and the key tokens right."""
    colour = HEAD_COLOURS[head % len(HEAD_COLOURS)]
    for i, token in enumerate(queries):
        ax.text(-0.04, i, token, ha="right", va="center", fontsize=font,
                fontweight="bold" if i == query else "normal")
    for j, token in enumerate(keys):
        ax.text(1.04, j, token, ha="left", va="center", fontsize=font)
    segments, colours = _lines(weights, colour, query)
    ax.add_collection(LineCollection(segments, colors=colours, linewidths=1.8))
    ax.text(-0.04, -1.3, "query", ha="right", va="center", fontsize=MIN_FONT, color="dimgray")
    ax.text(1.04, -1.3, "key", ha="left", va="center", fontsize=MIN_FONT, color="dimgray")
    ax.set_title(f"head {head}", fontsize=font + 1, color=colour, fontweight="bold")
    # Room for the labels on both sides, in data units (the lines run from x=0 to x=1).
    width = panel_inches(ax)[0]
    label = text_inches(max(queries + keys, key=len), font) + 0.1
    side = label / max(width - 2 * label, 0.3)
    ax.set_xlim(-side, 1 + side)
    ax.set_ylim(max(len(queries), len(keys)) - 0.5, -1.8)  # first token on top, as in reading order
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _lines(weights: np.ndarray, colour: str, query: int | None):
    """Segments from ``(0, i)`` to ``(1, j)``, coloured with alpha = ``weights[i, j]``."""
    red, green, blue, _ = to_rgba(colour)
    segments, colours = [], []
    for i in range(weights.shape[0]) if query is None else [query]:
        for j in range(weights.shape[1]):
            weight = float(weights[i, j])
            if weight >= MIN_WEIGHT:
                segments.append([(0.0, i), (1.0, j)])
                colours.append((red, green, blue, min(1.0, weight)))
    return segments, colours
