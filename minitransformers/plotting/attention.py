"""Heat maps of attention weights: one head, or every head of every layer.

A row is a query token, a column a key token; a cell's colour is the share
of the query's attention that goes to that key (each row sums to 1).

- ``plot_attention``: one head, labelled with the tokens, with a colour bar.
- ``plot_attention_grid``: the "model view", layers as rows and heads as
  columns; the outer cells name the tokens (up to 24), and every cell shares
  one colour scale with one colour bar (or, on request, has its own scale).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._layout import (
    MAX_TICK_LABELS, MAX_TOKENS, NOTE_PREFIX, add_note, as_matrix, check_tokens, cut, cut_note,
    figure_and_ax, new_figure, set_token_ticks, square_size,
)

ATTENTION_CMAP = "viridis"
GRID_MAX_LABELS = 24  # more tokens than this and the grid's cells are too small to name each one


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
    shared_scale: bool = True,
    max_labels: int = GRID_MAX_LABELS,
    title: str | None = None,
    cell_size: float | None = None,
) -> Figure:
    """Every head of every layer: a grid of ``len(layers)`` rows by ``len(heads)`` columns.

    ``attentions`` is what a model returns with ``output_attentions=True``
    (or ``cache.attention_weights()``); ``example`` picks the batch row.
    ``fig.axes[row * n_heads + column]`` is layer ``layers[row]``, head
    ``heads[column]`` (the colour bar, if any, comes last). ``fig`` may be a
    sub-figure, to draw two models side by side (``fig.subfigures(1, 2)``).

    - Up to ``max_labels`` tokens, the left column names the query tokens and
      the bottom row the key tokens; beyond, the outer axes number every
      few positions and a note says so.
    - ``shared_scale=True`` (default) colours every cell on one scale, from 0
      to the largest weight shown, with one colour bar: a head that spreads
      its attention thinly looks faint, as it should. ``False`` gives each
      cell its own scale (to see the pattern of a faint head); the title
      says which.
    """
    per_layer = _layer_list(attentions, example)
    layers = list(range(len(per_layer))) if layers is None else list(layers)
    heads = list(range(per_layer[0].shape[0])) if heads is None else list(heads)
    t, s = per_layer[0].shape[-2:]
    tokens = check_tokens(tokens, s, "tokens")
    kept_t, kept_s = cut(t, max_tokens), cut(s, max_tokens)
    cells = [[per_layer[layer][head, :kept_t, :kept_s] for head in heads] for layer in layers]
    labelled = max(kept_t, kept_s) <= max_labels
    labels = [_short(token) for token in tokens]
    font = float(np.clip(9 - max(kept_t, kept_s) / 6, 5, 8))
    if cell_size is None:  # each row of a cell at least ~7 points high when labelled
        cell_size = max(1.25, 0.1 * max(kept_t, kept_s)) if labelled else 1.25

    # Margins in inches: room for the labels, the colour bar and the notes.
    char_width = 0.62 * font / 72  # inches per character, roughly, for DejaVu Sans
    label_room = (char_width * max(len(label) for label in labels[:max(kept_t, kept_s)]) + 0.1
                  if labelled else 0.25)
    left, right = 0.3 + label_room, 0.15 + (0.9 if shared_scale else 0.0)
    top, bottom = 0.75, 0.1 + label_room + (0.4 if not labelled or t != kept_t else 0.0)
    width = left + right + cell_size * len(heads)
    height = top + bottom + cell_size * len(layers)
    if fig is None:
        fig = new_figure((width, height))
    # A figure, or a sub-figure (``fig.subfigures``) to put two models' grids side by side.
    width, height = fig.bbox.width / fig.dpi, fig.bbox.height / fig.dpi
    grid = np.atleast_2d(fig.subplots(len(layers), len(heads), squeeze=False))
    vmax = max(float(cell.max()) for row in cells for cell in row) if shared_scale else None
    for row, layer in enumerate(layers):
        for column, head in enumerate(heads):
            ax = grid[row, column]
            image = ax.imshow(cells[row][column], cmap=ATTENTION_CMAP, vmin=0.0, vmax=vmax,
                              interpolation="nearest")
            _grid_ticks(ax, labels, kept_t, kept_s, labelled, font,
                        first_column=column == 0, last_row=row == len(layers) - 1)
            if row == 0:
                ax.set_title(f"head {head}", fontsize=8)
            if column == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=8)

    notes = []
    if not labelled:
        notes.append(f"{NOTE_PREFIX} {kept_s} tokens are too many to name in every cell (> {max_labels}): "
                     f"the outer ticks number the positions, token k is row k (query) and column k (key). "
                     f"Zoom in on one head with plot_attention(attentions[layer][0, head], tokens).")
    cut_message = cut_note((t, s), (kept_t, kept_s))
    if cut_message:
        notes.append(cut_message)
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height, wspace=0.08, hspace=0.08)
    if shared_scale:
        bar = fig.add_axes((1 - (right - 0.2) / width, bottom / height, 0.15 / width,
                            1 - (top + bottom) / height))
        fig.colorbar(image, cax=bar).set_label("attention weight", fontsize=8)
        bar.tick_params(labelsize=7)
        scale = f"one colour scale for all heads, 0 to {vmax:.2f} (colour bar)"
    else:
        scale = "each head on its own colour scale: compare patterns, not brightness"
    heading = title or "Attention weights: rows are queries, columns are keys"
    fig.suptitle(f"{heading}\n{scale}", fontsize=9, y=1 - 0.08 / height, va="top")
    if notes:
        fig.text(0.01, 0.005, "\n".join(notes), fontsize=6.5, color="dimgray", va="bottom", wrap=True)
    return fig


def _short(token: str, limit: int = 10) -> str:
    return token if len(token) <= limit else token[: limit - 1] + "…"


def _grid_ticks(ax: Axes, labels: list[str], t: int, s: int, labelled: bool, font: float, *,
                first_column: bool, last_row: bool) -> None:
    """Token names (or position numbers) on the outer cells of the grid only; none inside."""
    step = 1 if labelled else max(1, int(np.ceil(max(t, s) / 6)))
    ax.set_xticks(range(0, s, step) if last_row else [])
    ax.set_yticks(range(0, t, step) if first_column else [])
    if last_row:
        ax.set_xticklabels(labels[:s] if labelled else [str(i) for i in range(0, s, step)],
                           rotation=90 if labelled else 0, fontsize=font)
    if first_column:
        ax.set_yticklabels(labels[:t] if labelled else [str(i) for i in range(0, t, step)], fontsize=font)
    ax.tick_params(length=1.5, pad=1)
