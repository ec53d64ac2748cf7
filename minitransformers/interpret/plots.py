"""Pictures of the interpretability results: logit lens, patching, attribution, head scores.

Each function returns a ``matplotlib.figure.Figure`` sized for a slide
(at least 6.5 inches, 650 px at 100 dpi, on its short side), with token
labels made readable (``⏎`` for a newline, ``␣`` for a lone space) and one
colour bar per figure. The result objects call these from their ``plot``
methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ..plotting._layout import new_figure, readable_token

MIN_SIDE = 6.5  # inches: 650 px at 100 dpi
LABEL_SIZE = 11
CELL_TEXT_SIZE = 9


def token_labels(tokens: Sequence[str]) -> list[str]:
    """Tick labels a reader can read: ``⏎`` for a newline, ``␣`` for a space, byte-level marks decoded."""
    labels = []
    for token in tokens:
        label = readable_token(token).replace("↵", "⏎").replace("\n", "⏎")
        labels.append(label if label.strip() else "␣" * max(1, len(label)))
    return labels


def _heat_map(fig: Figure, ax, values: np.ndarray, cmap: str, vmin: float, vmax: float, colorbar_label: str,
              norm=None):
    if norm is not None:  # a norm (a log scale) carries its own limits
        vmin = vmax = None
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, norm=norm, aspect="auto", origin="upper")
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label(colorbar_label, fontsize=LABEL_SIZE)
    bar.ax.tick_params(labelsize=LABEL_SIZE - 1)
    return image


def _ticks(ax, x_labels: Sequence[str], y_labels: Sequence[str], x_title: str, y_title: str) -> None:
    ax.set_xticks(range(len(x_labels)))
    # About 0.09 inch per character at this size; the axes take about 80% of the figure's width.
    crowded = max(map(len, x_labels), default=0) * 0.09 > 0.8 * ax.get_figure().get_size_inches()[0] / len(x_labels)
    ax.set_xticklabels(x_labels, rotation=90 if crowded else 0, fontsize=LABEL_SIZE)
    ax.set_yticks(range(len(y_labels)))
    ax.set_yticklabels(y_labels, fontsize=LABEL_SIZE if len(y_labels) <= 24 else 9)
    ax.set_xlabel(x_title, fontsize=LABEL_SIZE + 1)
    ax.set_ylabel(y_title, fontsize=LABEL_SIZE + 1)


def _write_cells(ax, texts: np.ndarray, shades: np.ndarray, threshold: float) -> None:
    """Text in every cell, white on dark cells and black on light ones."""
    for row in range(texts.shape[0]):
        for column in range(texts.shape[1]):
            colour = "white" if abs(shades[row, column]) > threshold else "black"
            ax.text(column, row, texts[row, column], ha="center", va="center", fontsize=CELL_TEXT_SIZE, color=colour)


def plot_logit_lens(lens, tokenizer, batch: int = 0, target=None, title: str | None = None) -> Figure:
    """Layers (rows, the embeddings at the top) x read positions: the top guess in each cell.

    ``tokenizer`` labels the input positions and decodes the guesses. Without
    ``target`` the colour is the top guess's probability, 0 to 1. With ``target``
    (one id, or ids ``(b p)``) it is the target's rank among the vocabulary, on a
    log scale from 1 (the top guess, darkest) to the vocabulary's size, and each
    cell gives the rank under the guess: a word a model comes to know often keeps
    a small probability while its rank climbs, and on a probability scale the map
    would read as blank. The title says the scale, also after a ``title`` of the caller.
    """
    inputs = tokenizer.display_tokens(lens.input_ids[batch].tolist())
    labels = token_labels([inputs[p] for p in lens.positions])
    probabilities, ids = lens.top_k(1)
    words = np.array([token_labels([tokenizer.decode([int(i)])[:9] for i in row]) for row in ids[:, batch, :, 0]])
    width = max(MIN_SIDE + 2, 0.9 * len(labels) + 3.5)
    height = max(MIN_SIDE, 0.55 * len(lens.layer_labels) + 3)
    fig = new_figure((width, height))
    ax = fig.add_subplot(1, 1, 1)
    if target is None:
        shade = probabilities[:, batch, :, 0].cpu().numpy()
        scale = "colour: probability of the top guess, 0 to 1"
        _heat_map(fig, ax, shade, "Blues", 0.0, 1.0, "probability of the top guess")
        darkness = shade
    else:
        rank = lens.target_rank(target)[:, batch].cpu().numpy()  # 0 = the top guess, as in LogitLens.table
        vocabulary = lens.logits.shape[-1]
        scale = f"colour: rank of the target among {vocabulary:,} tokens on a log scale, dark = near the top"
        norm = LogNorm(vmin=1, vmax=vocabulary)  # a log scale needs values above 0: the colour is rank + 1
        image = _heat_map(fig, ax, rank + 1, "Blues_r", 1, vocabulary, "rank of the target (0 = top guess), log scale",
                          norm=norm)
        ticks = [r for r in (0, 1, 10, 100, 1000, 10000) if r < vocabulary]
        image.colorbar.set_ticks([r + 1 for r in ticks], labels=[str(r) for r in ticks])
        image.colorbar.minorticks_off()
        darkness = 1 - norm(rank + 1)
        words = np.char.add(np.char.add(words, "\nrank "), rank.astype(int).astype(str))
    _write_cells(ax, words, darkness, 0.55)
    read = "the guess is for the next token" if lens.family == "gpt" else "the guess is for this position's token"
    _ticks(ax, labels, lens.layer_labels, f"input token ({read})", "residual stream")
    heading = title or "Logit lens: top guess after each layer"
    ax.set_title(f"{heading}\n({scale})", fontsize=LABEL_SIZE + 2)
    fig.tight_layout()
    return fig


def plot_patching(result, tokens: Sequence[str] | None = None, normalized: bool = True,
                  title: str | None = None) -> Figure:
    """Heat map of a ``PatchingResult``: layers (or layer.head pairs) x positions (or heads)."""
    values = (result.normalized() if normalized else result.values).cpu().numpy()
    dims = result.dims
    layer_names = [f"L{layer}" for layer in result.layers]
    if dims == ("layer", "position", "head"):
        values = values.transpose(0, 2, 1).reshape(-1, values.shape[1])  # rows: (layer, head) pairs
        y_labels = [f"{name} H{h}" for name in layer_names for h in range(result.values.shape[2])]
        y_title = "layer and head"
    else:
        y_labels, y_title = layer_names, "layer"
    if "position" in dims:
        x_labels = token_labels(tokens) if tokens is not None else [str(p) for p in range(values.shape[1])]
        x_title = "position patched (tokens of the clean input)"
    else:
        x_labels, x_title = [f"H{h}" for h in range(values.shape[1])], "head (all positions patched)"
    if tokens is not None and "position" in dims and len(x_labels) != values.shape[1]:
        raise ValueError(f"got {len(x_labels)} tokens for {values.shape[1]} positions; pass one token per position")
    width = max(MIN_SIDE + 2, 0.55 * len(x_labels) + 4)
    height = max(MIN_SIDE, 0.26 * len(y_labels) + 3)
    fig = new_figure((width, height))
    ax = fig.add_subplot(1, 1, 1)
    limit = max(1.0 if normalized else 0.0, float(np.abs(values).max()), 1e-6)
    label = "fraction of the clean metric restored" if normalized else "metric with the patch"
    _heat_map(fig, ax, values, "RdBu_r", -limit, limit, label)
    _ticks(ax, x_labels, y_labels, x_title, y_title)
    ax.set_title(title or f"Activation patching of {result.kind}: clean activation into the corrupted run",
                 fontsize=LABEL_SIZE + 2)
    fig.tight_layout()
    return fig


def plot_attribution(attribution, batch: int = 0, title: str | None = None) -> Figure:
    """Heads and MLPs per layer, coloured by their direct share of the logit difference."""
    heads = attribution.heads[:, :, batch].cpu().numpy()
    values = np.concatenate([heads, attribution.mlps[:, batch].cpu().numpy()[:, None]], axis=1)
    fig = new_figure((max(MIN_SIDE + 2, 0.9 * values.shape[1] + 4), max(MIN_SIDE, 0.6 * values.shape[0] + 3)))
    ax = fig.add_subplot(1, 1, 1)
    limit = max(float(np.abs(values).max()), 1e-6)
    _heat_map(fig, ax, values, "RdBu_r", -limit, limit, "direct share of the logit difference")
    _write_cells(ax, np.vectorize(lambda v: f"{v:+.2f}")(values), values, 0.6 * limit)
    _ticks(ax, [f"H{h}" for h in range(heads.shape[1])] + ["MLP"], [f"L{i}" for i in range(values.shape[0])],
           "component", "layer")
    parts = (f"embeddings {float(attribution.embeddings[batch]):+.2f}, biases {float(attribution.biases[batch]):+.2f}, "
             f"sum {float(attribution.total()[batch]):+.2f} = logit difference "
             f"{float(attribution.logit_difference[batch]):+.2f}")
    ax.set_title((title or "Direct logit attribution") + f"\n{parts}", fontsize=LABEL_SIZE + 1)
    fig.tight_layout()
    return fig


def _score_text(value: float) -> str:
    """``.42`` for a score in [0, 1) (two digits fit a small cell), ``1.0`` at the top."""
    text = f"{value:.2f}"
    return text[1:] if text.startswith("0.") else f"{value:.1f}"


def plot_head_scores(scores: Mapping[str, torch.Tensor], title: str | None = None) -> Figure:
    """``(l h)`` score maps on one 0-to-1 colour scale, one panel per detector.

    The panels sit side by side, or two per row when the model has many heads.
    """
    if not scores:
        raise ValueError("plot_head_scores needs at least one {name: (layers, heads) scores} entry")
    n = len(scores)
    n_layers, h = next(iter(scores.values())).shape
    columns = n if n * h <= 24 else min(n, 2)
    rows = -(-n // columns)
    fig = new_figure((max(MIN_SIDE + 2, (0.5 * h + 1.4) * columns + 1.5), max(MIN_SIDE, (0.5 * n_layers + 2.5) * rows)))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(rows, columns, squeeze=False).flatten()
    for ax, (name, values) in zip(axes, scores.items()):
        array = values.detach().cpu().float().numpy()
        image = ax.imshow(array, cmap="Purples", vmin=0.0, vmax=1.0, aspect="auto")
        _write_cells(ax, np.vectorize(_score_text)(array), array, 0.6)
        _ticks(ax, [f"H{j}" for j in range(h)], [f"L{i}" for i in range(n_layers)], "head", "layer")
        ax.set_title(name, fontsize=LABEL_SIZE + 1)
    for ax in axes[n:]:
        ax.set_visible(False)
    bar = fig.colorbar(image, ax=list(axes[:n]), fraction=0.03, pad=0.02)
    bar.set_label("score (mean attention weight)", fontsize=LABEL_SIZE)
    if title:
        fig.suptitle(title, fontsize=LABEL_SIZE + 2)
    return fig
