"""Heat maps of attention weights: one head, or every head of every layer.

A row is a query token, a column a key token; a cell's colour is the share
of the query's attention that goes to that key (each row sums to 1).

- ``plot_attention``: one head, labelled with the tokens, with a colour bar.
- ``plot_attention_grid``: the "model view", layers as rows and heads as
  columns, small multiples without tick labels, each cell coloured on its
  own scale (a head that spreads its attention thinly is still visible).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._layout import (
    MAX_TICK_LABELS, MAX_TOKENS, add_note, as_matrix, check_tokens, cut, cut_note,
    figure_and_ax, new_figure, set_token_ticks, square_size,
)

ATTENTION_CMAP = "viridis"


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
) -> Figure:
    """One head's weights ``(t, s)`` as a heat map with a colour bar.

    ``key_tokens`` default to ``query_tokens`` (self-attention). Pick a head
    from a model output with ``output.attentions[layer][example, head]``.
    """
    matrix = as_matrix(weights, "weights", "pick one example and head, e.g. attentions[0][0, 0]")
    queries = check_tokens(query_tokens, matrix.shape[0], "query tokens")
    keys = check_tokens(key_tokens if key_tokens is not None else query_tokens, matrix.shape[1],
                        "key tokens")
    t, s = cut(matrix.shape[0], max_tokens), cut(matrix.shape[1], max_tokens)
    fig, ax = figure_and_ax(ax, (square_size(s) + 1.2, square_size(t)))
    image = ax.imshow(matrix[:t, :s], cmap=ATTENTION_CMAP, vmin=0.0, interpolation="nearest")
    ax.set_ylabel("query")
    ax.set_xlabel("key")
    tick_note = set_token_ticks(ax, keys[:s], queries[:t], max_tick_labels)
    add_note(ax, cut_note(matrix.shape, (t, s)), tick_note)
    if colorbar:
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention weight")
    if title:
        ax.set_title(title)
    return fig


def _layer_list(attentions, example: int) -> list[np.ndarray]:
    """Model ``attentions`` (``l`` tensors ``(b h t s)``, or ``(l b h t s)``, or ``(l h t s)``)
    -> ``l`` arrays ``(h t s)`` for one example."""
    layers = []
    for layer in attentions:
        array = layer.detach().cpu().float().numpy() if isinstance(layer, torch.Tensor) else layer
        array = np.asarray(array)
        if array.ndim == 4:
            array = array[example]
        if array.ndim != 3:
            raise ValueError(f"each layer's attention must be (batch, heads, t, s) or "
                             f"(heads, t, s), got shape {tuple(array.shape)}")
        layers.append(array)
    return layers


def plot_attention_grid(
    attentions: Sequence[torch.Tensor] | torch.Tensor,
    tokens: Sequence[str] | None = None,
    fig: Figure | None = None,
    *,
    example: int = 0,
    layers: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
    max_tokens: int | None = MAX_TOKENS,
    cell_size: float = 1.25,
) -> Figure:
    """Every head of every layer: a grid of ``len(layers)`` rows by ``len(heads)`` columns.

    ``attentions`` is what a model returns with ``output_attentions=True``
    (or ``cache.attention_weights()``); ``example`` picks the batch row.
    ``fig.axes[row * n_heads + column]`` is layer ``layers[row]``, head
    ``heads[column]``. At 12 x 12 (GPT-2, BERT-base) the default figure is
    15 inches wide: zoom in with ``plot_attention`` on heads of interest.
    """
    per_layer = _layer_list(attentions, example)
    layers = list(range(len(per_layer))) if layers is None else list(layers)
    heads = list(range(per_layer[0].shape[0])) if heads is None else list(heads)
    t, s = per_layer[0].shape[-2:]
    tokens = check_tokens(tokens, s, "tokens")
    kept_t, kept_s = cut(t, max_tokens), cut(s, max_tokens)

    if fig is None:
        fig = new_figure((cell_size * len(heads) + 0.8, cell_size * len(layers) + 1.0))
    grid = np.atleast_2d(fig.subplots(len(layers), len(heads), squeeze=False))
    for row, layer in enumerate(layers):
        for column, head in enumerate(heads):
            ax = grid[row, column]
            ax.imshow(per_layer[layer][head, :kept_t, :kept_s], cmap=ATTENTION_CMAP, vmin=0.0,
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"head {head}", fontsize=8)
            if column == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=8)

    notes = [f"{kept_t} query x {kept_s} key tokens per cell, each cell on its own colour scale"]
    cut_message = cut_note((t, s), (kept_t, kept_s))
    if cut_message:
        notes.append(cut_message)
    elif len(tokens) <= 16:
        notes.append("tokens: " + " ".join(tokens))
    height = fig.get_figheight()
    fig.suptitle("Attention weights: rows are queries, columns are keys", fontsize=10,
                 y=1 - 0.12 / height)
    fig.text(0.01, 0.005, "\n".join(notes), fontsize=7, color="dimgray", va="bottom")
    fig.subplots_adjust(left=0.06, right=0.99, top=1 - 0.7 / height, bottom=0.5 / height,
                        wspace=0.08, hspace=0.08)
    return fig
