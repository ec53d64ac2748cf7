"""2-D scatter plots of embeddings, coloured by label or cluster, with chosen points annotated.

The points come from a projection done elsewhere (PCA, t-SNE, UMAP...) of
sentence or token vectors, e.g. to compare how mini-BERT and mini-GPT
arrange the same sentences. ``annotate`` writes a text next to a few points,
typically the outliers worth a closer look: they are numbered on the map
and their texts listed in a key below it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._layout import LABEL_FONT, MIN_FONT, TITLE_FONT, figure_and_ax, style_colorbar

MAX_LEGEND_ENTRIES = 20  # more categories than this get a colour bar instead of a legend
MAX_ANNOTATIONS = 8  # numbered points on one map; more would clutter it and its key
KEY_TEXT_LENGTH = 90  # characters of each text in the key under the map


def plot_embedding_scatter(
    points_2d: torch.Tensor | np.ndarray,
    labels: Sequence | np.ndarray | None = None,
    ax: Axes | None = None,
    *,
    annotate: Sequence[int] | None = None,
    texts: Sequence[str] | None = None,
    title: str | None = None,
    point_size: float = 18.0,
    max_annotations: int = MAX_ANNOTATIONS,
) -> Figure:
    """Draw ``points_2d (n, 2)``, coloured by ``labels`` (one per point: names or cluster ids).

    ``annotate``: indices of points to point out. Each gets a number on the
    map and its text (``texts[i]``, or its index) in a numbered key under
    the axes, so that long sentences never pile up on the map; at most
    ``max_annotations`` of them, the rest counted in the key. Up to 20
    distinct labels get a legend; more, numeric ones get a colour bar.
    """
    points = points_2d
    if isinstance(points, torch.Tensor):
        points = points.detach().cpu().float().numpy()
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points_2d must have shape (n, 2), got {tuple(points.shape)}; "
                         f"project your vectors to 2-D first (e.g. sklearn PCA(n_components=2))")
    n = len(points)
    if labels is not None:
        labels = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels)
        if len(labels) != n:
            raise ValueError(f"got {len(labels)} labels for {n} points; give one label per point")
    if texts is not None and len(texts) != n:
        raise ValueError(f"got {len(texts)} texts for {n} points; give one text per point")

    fig, ax = figure_and_ax(ax, (8, 7))
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=point_size, color="#2b6cb0", alpha=0.8)
    else:
        _scatter_by_label(fig, ax, points, labels, point_size)
    _number_points(ax, points, annotate or [], texts, point_size, max_annotations)
    ax.set_xlabel("dimension 1", fontsize=LABEL_FONT)
    ax.set_ylabel("dimension 2", fontsize=LABEL_FONT)
    ax.tick_params(labelsize=MIN_FONT + 1)
    if title:
        ax.set_title(title, fontsize=TITLE_FONT)
    return fig


def _number_points(ax: Axes, points: np.ndarray, chosen: Sequence[int], texts: Sequence[str] | None,
                   point_size: float, max_annotations: int) -> None:
    """Ring the chosen points, number them 1, 2, ... on the map, and list their texts below the axes."""
    n = len(points)
    for index in chosen:
        if not -n <= index < n:
            raise IndexError(f"annotate index {index} is outside the {n} points")
    shown = list(chosen)[:max_annotations]
    key = []
    for number, index in enumerate(shown, start=1):
        ax.scatter(*points[index], s=point_size * 2.5, facecolors="none", edgecolors="black", linewidths=0.8)
        ax.annotate(str(number), points[index], xytext=(5, 5), textcoords="offset points", fontsize=MIN_FONT + 1,
                    fontweight="bold", bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="gray",
                                                 linewidth=0.5, alpha=0.85))
        text = " ".join(str(texts[index]).split()) if texts is not None else f"point {index}"
        # Emoji and other symbols from U+2600 on are missing from matplotlib's default font (boxes).
        text = "".join(character for character in text if ord(character) < 0x2600)
        text = text if len(text) <= KEY_TEXT_LENGTH else text[: KEY_TEXT_LENGTH - 1] + "…"
        key.append(f"{number}. {text}")
    if len(chosen) > len(shown):
        key.append(f"(and {len(chosen) - len(shown)} more not numbered; pass max_annotations= to show them)")
    if key:
        # Under the x-axis label, wherever the label ends up (x: the axes' left edge).
        ax.annotate("\n".join(key), xy=(0.0, 0.0), xycoords=("axes fraction", ax.xaxis.label),
                    xytext=(0, -4), textcoords="offset points", va="top", ha="left", fontsize=MIN_FONT + 1)


def _scatter_by_label(fig: Figure, ax: Axes, points: np.ndarray, labels: np.ndarray,
                      point_size: float) -> None:
    """One colour per category with a legend; a colour map for many numeric values."""
    categories = list(dict.fromkeys(labels.tolist()))  # first-seen order, stable legend
    if len(categories) <= MAX_LEGEND_ENTRIES:
        palette = _palette(len(categories))
        for colour, category in zip(palette, categories, strict=True):
            chosen = labels == category
            ax.scatter(points[chosen, 0], points[chosen, 1], s=point_size, color=colour, alpha=0.8,
                       label=str(category))
        ax.legend(fontsize=LABEL_FONT, markerscale=1.4, frameon=False, loc="best")
        return
    if not np.issubdtype(labels.dtype, np.number):
        raise ValueError(f"{len(categories)} distinct text labels are too many to tell apart by "
                         f"colour (at most {MAX_LEGEND_ENTRIES}); group them, or pass numeric ids")
    image = ax.scatter(points[:, 0], points[:, 1], c=labels, s=point_size, cmap="viridis",
                       alpha=0.8)
    style_colorbar(fig.colorbar(image, ax=ax), "label")


def _palette(n: int) -> list:
    """``n`` distinguishable colours: tab10 up to 10, tab20 beyond."""
    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i) for i in range(n)]
