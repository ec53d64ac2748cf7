"""The "head view": a line from each query token to every key it attends to.

Queries are listed on the left, keys on the right (the same tokens, for
self-attention). The opacity of the line from query ``i`` to key ``j`` is
the weight ``w[i, j]``, so a sharp head draws a few dark lines (e.g. each
token to the one before it) and a diffuse head a grey haze. Several heads
can be overlaid, one colour each.

The result is a plain matplotlib ``Figure``: ``fig.savefig("head.pdf")``
gives a vector drawing for slides or a paper, ``"head.png"`` a picture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ._layout import MAX_TOKENS, add_note, check_tokens, cut, cut_note, figure_and_ax

HEAD_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
                "#17becf", "#7f7f7f", "#bcbd22", "#393b79", "#637939")
MIN_WEIGHT = 0.01  # lines fainter than this are not drawn: invisible anyway, and they bloat PDFs


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
    heads: Sequence[int] | None = None,
    query: int | None = None,
    title: str | None = None,
    max_tokens: int | None = MAX_TOKENS,
) -> Figure:
    """Lines from queries (left) to keys (right), opacity = attention weight.

    ``weights`` is one head ``(t, s)`` or several ``(h, t, s)`` (e.g.
    ``output.attentions[layer][0]``); ``heads`` picks which to overlay (all
    by default). ``query`` draws only that query's lines, to follow one token.
    """
    per_head = _heads_array(weights)
    n_heads, t_all, s_all = per_head.shape
    heads = list(range(n_heads)) if heads is None else list(heads)
    queries = check_tokens(tokens, t_all, "query tokens")
    keys = check_tokens(key_tokens if key_tokens is not None else tokens, s_all, "key tokens")
    t, s = cut(t_all, max_tokens), cut(s_all, max_tokens)
    if query is not None and not 0 <= query < t:
        raise IndexError(f"query={query} is outside the {t} query positions drawn")

    rows = max(t, s)
    fig, ax = figure_and_ax(ax, (4.5, min(2.0 + 0.22 * rows, 16.0)))
    font = float(np.clip(11 - rows / 8, 5, 10))
    for i, token in enumerate(queries[:t]):
        ax.text(-0.05, i, token, ha="right", va="center", fontsize=font,
                fontweight="bold" if i == query else "normal")
    for j, token in enumerate(keys[:s]):
        ax.text(1.05, j, token, ha="left", va="center", fontsize=font)

    legend = []
    for head in heads:
        colour = HEAD_COLOURS[head % len(HEAD_COLOURS)]
        segments, colours = _lines(per_head[head, :t, :s], colour, query)
        ax.add_collection(LineCollection(segments, colors=colours, linewidths=1.6))
        legend.append(Line2D([], [], color=colour, linewidth=2, label=f"head {head}"))

    ax.text(-0.05, -1.2, "query", ha="right", va="center", fontsize=9, color="dimgray")
    ax.text(1.05, -1.2, "key", ha="left", va="center", fontsize=9, color="dimgray")
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(rows - 0.5, -1.7)  # first token on top, as in reading order
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    if len(heads) > 1:
        ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                  ncol=min(4, len(heads)), fontsize=7, frameon=False)
    add_note(ax, cut_note((t_all, s_all), (t, s)))
    if title:
        ax.set_title(title)
    return fig


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
