"""Pictures of the attention summaries in ``inspection.analysis``: rollout and per-head entropy.

- ``plot_rollout``: the rollout matrix ``(t, s)``, how much of each input
  token reaches each position after all layers (residual connections
  included), with an optional bar chart of one position's row (the
  ``[CLS]`` token for BERT, the last token for GPT) beside it. It is not an
  attention weight, and its colour bar says so. Two models side by side on
  one scale: ``plot_rollout_comparison``.
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
    LABEL_FONT, MAX_FONT, MAX_TOKENS, MIN_FONT, MIN_SIDE, NOTE_PREFIX, add_note, as_matrix,
    check_tokens, cut, describe_input, figure_and_ax, fit_font, heading, new_figure, panel_inches,
    style_colorbar, wrap,
)
from .attention import map_size, plot_attention

ROLLOUT_LABEL = "rollout: share of each input token (column)\nin each position after all layers (row)"
ROLLOUT_AXES = ("position, after all layers", "input token")
ROLLOUT_TITLE = "Attention rollout through all layers"
ENTROPY_LABEL = "entropy (nats): low = sharp, high = diffuse"


def plot_rollout(
    rollout: torch.Tensor | np.ndarray,
    tokens: Sequence[str] | None = None,
    axes: Sequence[Axes] | None = None,
    *,
    query: int | None = None,
    max_tokens: int | None = MAX_TOKENS,
    title: str | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
) -> Figure:
    """The rollout matrix as a heat map, and with ``query`` a bar chart of that position's row.

    ``rollout`` is one example's ``(t, s)`` from ``attention_rollout``.
    ``axes``: one axes (matrix only) or two (matrix, then bars). ``vmax``
    sets the top of the colour scale (default: the largest value), so that
    panels drawn with the same ``vmax`` compare by colour.
    """
    matrix = as_matrix(rollout, "rollout", "pick one example, e.g. rollout[0]")
    names = check_tokens(tokens, matrix.shape[1], "tokens")
    if query is not None and not -matrix.shape[0] <= query < matrix.shape[0]:
        raise IndexError(f"query={query} is not a position of this rollout; pick 0..{matrix.shape[0] - 1}")
    n_panels = 1 if query is None else 2
    if axes is None:
        side, label_room = map_size(cut(matrix.shape[1], max_tokens), max(names, key=len))
        width = n_panels * (side + label_room) + 1.8
        fig = new_figure((min(width, 16.0), max(side + label_room + 1.2, MIN_SIDE)), layout="constrained")
        axes = fig.subplots(1, n_panels, squeeze=False)[0]
    elif len(axes) != n_panels:
        raise ValueError(f"plot_rollout draws {n_panels} panel(s) here; got {len(axes)} axes")
    fig = axes[0].get_figure()
    plot_attention(matrix, tokens, ax=axes[0], title=title or ROLLOUT_TITLE, max_tokens=max_tokens,
                   vmax=vmax, colorbar=colorbar, value_label=ROLLOUT_LABEL, axis_labels=ROLLOUT_AXES)
    if query is not None:
        _plot_row(axes[1], matrix[query], names, query % matrix.shape[0], max_tokens)
    return fig


def _plot_row(ax: Axes, row: np.ndarray, tokens: list[str], query: int, max_tokens) -> None:
    """How much each input token flows into position ``query``, as bars."""
    s = cut(len(row), max_tokens)
    ax.bar(range(s), row[:s], color="#2b6cb0")
    ax.set_title(f"what flows into {tokens[query]!r} (position {query})", fontsize=LABEL_FONT + 1)
    ax.set_ylabel("rollout: share of the input token", fontsize=LABEL_FONT)
    ax.set_xlabel("input token", fontsize=LABEL_FONT)
    ax.tick_params(axis="y", labelsize=MIN_FONT + 1)
    notes = []
    font = fit_font(panel_inches(ax)[0], s)
    if font >= MIN_FONT:
        ax.set_xticks(range(s), tokens[:s], rotation=90, fontsize=font)
    else:
        ax.set_xticks([])
        notes.append(f"{NOTE_PREFIX} {s} tokens, too many for tick labels")
    if s < len(row):
        notes.append(f"{NOTE_PREFIX} showing the first {s} of {len(row)} tokens")
    add_note(ax, *notes)


def plot_head_entropy(
    entropy: torch.Tensor | np.ndarray,
    ax: Axes | None = None,
    *,
    title: str = "Mean attention entropy per head (nats)",
    annotate: bool | None = None,
    tokens: Sequence[str] | None = None,
) -> Figure:
    """Entropies ``(layers, heads)`` from ``head_entropy`` as a table of coloured cells.

    Dark cells are sharp heads (attention on few keys), bright cells
    diffuse ones. Values are written in the cells when they fit at a
    readable size (``annotate=None``; True or False to force it).
    ``tokens``: the input the entropies were measured on, named in the title.
    """
    matrix = as_matrix(entropy, "entropy", "pass head_entropy(attentions), shaped (layers, heads)")
    n_layers, n_heads = matrix.shape
    cell = float(np.clip((MIN_SIDE - 1.8) / n_layers, 0.8, 1.2))  # a new figure's cells, in inches
    fig, ax = figure_and_ax(ax, (n_heads * cell + 2.8, n_layers * cell + 1.8))
    image = ax.imshow(matrix, cmap="magma", interpolation="nearest", aspect="auto")
    style_colorbar(fig.colorbar(image, ax=ax), ENTROPY_LABEL)
    width, height = panel_inches(ax)
    tick_font = max(MIN_FONT, min(LABEL_FONT, fit_font(width, n_heads)))
    ax.set_xticks(range(n_heads), [str(h) for h in range(n_heads)], fontsize=tick_font)
    ax.set_yticks(range(n_layers), [str(layer) for layer in range(n_layers)], fontsize=tick_font)
    ax.set_xlabel("head", fontsize=LABEL_FONT)
    ax.set_ylabel("layer", fontsize=LABEL_FONT)
    described = describe_input(tokens)
    ax.set_title(heading(title, described and wrap(described, width + 1.5, LABEL_FONT)), fontsize=LABEL_FONT + 1)
    # "1.23" is four characters: the font at which they fill 80% of a cell's width, at most MAX_FONT.
    value_font = min(MAX_FONT, 0.8 * min(width / n_heads, 1.6 * height / n_layers) * 72 / (4 * 0.6))
    if annotate is None:
        annotate = value_font >= MIN_FONT
    if annotate:
        middle = (np.nanmax(matrix) + np.nanmin(matrix)) / 2
        for layer in range(n_layers):
            for head in range(n_heads):
                value = matrix[layer, head]
                ax.text(head, layer, f"{value:.2f}", ha="center", va="center",
                        fontsize=max(value_font, MIN_FONT), color="black" if value > middle else "white")
    return fig

