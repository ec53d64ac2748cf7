"""Pictures of the attention summaries in ``inspection.analysis``: rollout and per-head entropy.

- ``plot_rollout``: the rollout matrix ``(t, s)``, how much each input
  token reaches each position after all layers, with an optional bar
  chart of one query's row (the ``[CLS]`` token for BERT, the last token
  for GPT) under it.
- ``plot_head_entropy``: a layers x heads table of mean entropies, the
  number written in each cell; low = sharp heads, high = diffuse heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._layout import (
    MAX_TOKENS, NOTE_PREFIX, add_note, as_matrix, check_tokens, cut, figure_and_ax, new_figure,
)
from .attention import plot_attention


def plot_rollout(
    rollout: torch.Tensor | np.ndarray,
    tokens: Sequence[str] | None = None,
    axes: Sequence[Axes] | None = None,
    *,
    query: int | None = None,
    max_tokens: int | None = MAX_TOKENS,
) -> Figure:
    """The rollout matrix as a heat map, and with ``query`` a bar chart of that query's row.

    ``rollout`` is one example's ``(t, s)`` from ``attention_rollout``.
    ``axes``: one axes (matrix only) or two (matrix, then bars).
    """
    matrix = as_matrix(rollout, "rollout", "pick one example, e.g. rollout[0]")
    tokens = check_tokens(tokens, matrix.shape[1], "tokens")
    n_panels = 1 if query is None else 2
    if axes is None:
        side = min(10.0, 3.0 + 0.25 * cut(matrix.shape[1], max_tokens))
        fig = new_figure((side * n_panels + 1.5, side))
        axes = fig.subplots(1, n_panels, squeeze=False)[0]
    elif len(axes) != n_panels:
        raise ValueError(f"plot_rollout draws {n_panels} panel(s) here; got {len(axes)} axes")
    fig = axes[0].get_figure()
    plot_attention(matrix, tokens, ax=axes[0], title="attention rollout (all layers)",
                   max_tokens=max_tokens)
    if query is not None:
        _plot_row(axes[1], matrix[query], tokens, query, max_tokens)
    fig.tight_layout()
    return fig


def _plot_row(ax: Axes, row: np.ndarray, tokens: list[str], query: int, max_tokens) -> None:
    """How much each input token flows into position ``query``, as bars."""
    s = cut(len(row), max_tokens)
    ax.bar(range(s), row[:s], color="#2b6cb0")
    ax.set_title(f"what flows into {tokens[query]!r} (position {query})")
    ax.set_ylabel("rolled-out attention")
    notes = []
    if s <= 48:
        ax.set_xticks(range(s), tokens[:s], rotation=90, fontsize=8)
    else:
        ax.set_xticks([])
        notes.append(f"{NOTE_PREFIX} {s} tokens, tick labels left out")
    if s < len(row):
        notes.append(f"{NOTE_PREFIX} showing the first {s} of {len(row)} tokens")
    add_note(ax, *notes)


def plot_head_entropy(
    entropy: torch.Tensor | np.ndarray,
    ax: Axes | None = None,
    *,
    title: str = "mean attention entropy per head (nats)",
    annotate: bool | None = None,
) -> Figure:
    """Entropies ``(layers, heads)`` from ``head_entropy`` as a table of coloured cells.

    Dark cells are sharp heads (attention on few keys), bright cells
    diffuse ones. Values are written in the cells when there is room
    (``annotate=None``: up to 16 x 16).
    """
    matrix = as_matrix(entropy, "entropy", "pass head_entropy(attentions), shaped (layers, heads)")
    n_layers, n_heads = matrix.shape
    size = (min(1.0 + 0.6 * n_heads, 14.0) + 1.2, min(1.0 + 0.5 * n_layers, 12.0))
    fig, ax = figure_and_ax(ax, size)
    image = ax.imshow(matrix, cmap="magma", interpolation="nearest", aspect="auto")
    fig.colorbar(image, ax=ax, label="entropy (nats)")
    ax.set_xticks(range(n_heads), [str(h) for h in range(n_heads)])
    ax.set_yticks(range(n_layers), [str(layer) for layer in range(n_layers)])
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    ax.set_title(title, fontsize=10)
    if annotate is None:
        annotate = n_layers <= 16 and n_heads <= 16
    if annotate:
        middle = (np.nanmax(matrix) + np.nanmin(matrix)) / 2
        for layer in range(n_layers):
            for head in range(n_heads):
                value = matrix[layer, head]
                ax.text(head, layer, f"{value:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if value > middle else "white")
    return fig
