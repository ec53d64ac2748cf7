"""Pictures of a :class:`~minitransformers.analysis.compare_embeddings.ComparisonResult`.

The t-SNE maps of every embedder side by side, coloured by true label (or by
KMeans cluster), with the interesting points written out: by default the
deliberately confusable items, so you can see whether the coffee review that
mentions a dog landed among the dog food.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from minitransformers.analysis.compare_embeddings import ComparisonResult

ANNOTATE_CHOICES = ("confusable", "misplaced", "misplaced-confusable")


def plot(
    result: ComparisonResult,
    name: str | None = None,
    *,
    annotate: str | Sequence[int] | None = "misplaced-confusable",
    color_by: str = "label",
    panel_size: float = 6.0,
) -> Figure:
    """Draw the t-SNE map of embedder ``name``, or of every embedder side by side if None.

    ``annotate`` picks the points to write out: ``"confusable"`` (all flagged items),
    ``"misplaced"`` (that embedder's misplaced items), ``"misplaced-confusable"`` (flagged
    items that embedder misplaced; the default), explicit indices, or None.
    ``color_by`` is ``"label"`` (true labels) or ``"cluster"`` (KMeans clusters).
    """
    from minitransformers.plotting._layout import new_figure
    from minitransformers.plotting.scatter import plot_embedding_scatter

    if color_by not in ("label", "cluster"):
        raise ValueError(f"color_by must be 'label' or 'cluster', found {color_by!r}")
    names = result.names if name is None else [name]
    fig = new_figure((panel_size * len(names), panel_size))
    for position, current in enumerate(names, start=1):
        embedder = result[current]
        if embedder.points_2d is None:
            raise ValueError(
                f"{current!r} has no 2-D map: compare_embeddings ran with tsne=False; "
                "run it again with tsne=True to plot"
            )
        colours = result.labels if color_by == "label" else embedder.clusters
        ax = fig.add_subplot(1, len(names), position)
        plot_embedding_scatter(
            embedder.points_2d,
            colours,
            ax,
            annotate=_chosen_points(result, current, annotate),
            texts=[f"({label}) {text}" for label, text in zip(result.labels, result.texts)],
            title=f"{current}: 1-NN acc {embedder.nn_accuracy:.2f}, ARI {embedder.ari:.2f}",
        )
        # t-SNE axes carry no meaning (only neighbourhoods do), so their numbers are noise.
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("t-SNE 1")
        ax.set_ylabel("t-SNE 2")
    fig.tight_layout()
    return fig


def _chosen_points(
    result: ComparisonResult, name: str, annotate: str | Sequence[int] | None
) -> list[int]:
    """The indices ``annotate`` asks for, for embedder ``name``."""
    if annotate is None:
        return []
    if not isinstance(annotate, str):
        return [int(index) for index in annotate]
    if annotate not in ANNOTATE_CHOICES:
        raise ValueError(
            f"annotate must be one of {ANNOTATE_CHOICES} or indices, found {annotate!r}"
        )
    if annotate == "confusable":
        return [i for i, flag in enumerate(result.confusable) if flag]
    misplaced = result[name].misplaced
    if annotate == "misplaced":
        return [point.index for point in misplaced]
    return [point.index for point in misplaced if point.confusable]
