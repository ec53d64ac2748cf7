"""Compare text embedders the way the BERT-vs-GPT article did, but measured.

The article embedded product reviews with BERT and with GPT, clustered them
with KMeans, drew a t-SNE map and judged by eye. :func:`compare_embeddings`
runs the same pipeline for any number of *embedders* (functions from a list
of texts to an ``(n, c)`` array) and adds the numbers of
:mod:`minitransformers.analysis.metrics`, plus the list of misplaced items,
with the deliberately confusable ones called out::

    result = compare_embeddings(texts, labels, {"bert": bert_fn, "gpt": gpt_fn})
    print(result.table())
    result["gpt"].points_2d   # (n, 2) t-SNE map, ready to plot
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minitransformers.analysis import metrics

Embedder = Callable[[list[str]], Any]  # texts -> (n, c) numpy array or torch tensor
METRICS = ("nn_accuracy", "ari", "silhouette")  # every one: higher is better


@dataclass(frozen=True)
class MisplacedPoint:
    """An item that sits with another label: in its KMeans cluster, by its nearest neighbour,
    or both. ``cluster_label``/``neighbour_label`` are ``None`` where that test passed."""

    index: int
    text: str
    label: str
    cluster_label: str | None
    neighbour_label: str | None
    neighbour: int
    confusable: bool


@dataclass
class EmbedderResult:
    """Everything measured for one embedder: embeddings ``(n, c)``, KMeans ``clusters``
    ``(n,)``, t-SNE ``points_2d`` ``(n, 2)`` (``None`` if skipped), nearest ``neighbours``
    ``(n,)``, the three metrics and the misplaced items."""

    name: str
    embeddings: np.ndarray
    clusters: np.ndarray
    points_2d: np.ndarray | None
    neighbours: np.ndarray
    nn_accuracy: float
    ari: float
    silhouette: float
    misplaced: list[MisplacedPoint] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        """One row of the comparison table as a dict."""
        confusable_misplaced = sum(point.confusable for point in self.misplaced)
        return {
            "embedder": self.name,
            "width": int(self.embeddings.shape[1]),
            "nn_accuracy": self.nn_accuracy,
            "ari": self.ari,
            "silhouette": self.silhouette,
            "misplaced": len(self.misplaced),
            "confusable_misplaced": confusable_misplaced,
        }


@dataclass
class ComparisonResult:
    """The result of :func:`compare_embeddings`: one :class:`EmbedderResult` per embedder,
    reachable as ``result[name]``, plus the inputs it was measured on."""

    texts: list[str]
    labels: list[str]
    confusable: list[bool]
    results: dict[str, EmbedderResult]

    def __getitem__(self, name: str) -> EmbedderResult:
        if name not in self.results:
            raise KeyError(f"no embedder named {name!r}; this comparison has {list(self.results)}")
        return self.results[name]

    @property
    def names(self) -> list[str]:
        return list(self.results)

    def to_rows(self, sort_by: str = "nn_accuracy") -> list[dict[str, Any]]:
        """One dict per embedder, best first by ``sort_by`` (a name in ``METRICS``)."""
        if sort_by not in METRICS:
            raise ValueError(f"sort_by must be one of {METRICS}, found {sort_by!r}")
        rows = [result.row() for result in self.results.values()]
        return sorted(rows, key=lambda row: row[sort_by], reverse=True)

    def table(self, sort_by: str = "nn_accuracy") -> str:
        """A plain-text table, one row per embedder, best first by ``sort_by``."""
        chance = _nn_chance(self.labels)
        header = f"{'embedder':<20} {'width':>5} {'1-NN acc':>8} {'ARI':>6} {'silhouette':>10}"
        header += f" {'misplaced':>9} {'confusable':>10}"
        lines = [header, "-" * len(header)]
        for row in self.to_rows(sort_by):
            lines.append(
                f"{row['embedder'][:20]:<20} {row['width']:>5} {row['nn_accuracy']:>8.3f} "
                f"{row['ari']:>6.3f} {row['silhouette']:>10.3f} {row['misplaced']:>9} "
                f"{row['confusable_misplaced']:>6}/{sum(self.confusable):<3}"
            )
        lines.append(
            f"(n={len(self.texts)}, {len(set(self.labels))} labels; 1-NN chance "
            f"~{chance:.3f}; confusable = flagged items among the misplaced)"
        )
        return "\n".join(lines)

    def misplaced_report(self, name: str, limit: int = 20) -> str:
        """The misplaced items of one embedder as text; flagged confusable items first, marked *."""
        points = sorted(self[name].misplaced, key=lambda p: (not p.confusable, p.index))
        lines = [f"{name}: {len(points)} misplaced of {len(self.texts)}"]
        for point in points[:limit]:
            where = []
            if point.cluster_label is not None:
                where.append(f"cluster of {point.cluster_label}")
            if point.neighbour_label is not None:
                where.append(f"neighbour #{point.neighbour} is {point.neighbour_label}")
            mark = "*" if point.confusable else " "
            lines.append(
                f"{mark} #{point.index} [{point.label}] -> {'; '.join(where)}: {point.text[:70]}"
            )
        if len(points) > limit:
            lines.append(f"  ... and {len(points) - limit} more")
        return "\n".join(lines)


def compare_embeddings(
    texts: Sequence[str],
    labels: Sequence[Any],
    embedders: Mapping[str, Embedder],
    n_clusters: int | None = None,
    seed: int = 0,
    tsne: bool = True,
    confusable: Sequence[bool] | None = None,
) -> ComparisonResult:
    """Embed ``texts`` with every embedder, cluster, map to 2-D and measure against ``labels``.

    ``embedders`` maps a name to a function ``list[str] -> (n, c)`` array or tensor (see
    :func:`make_embedder`). ``n_clusters`` defaults to the number of distinct labels.
    ``confusable`` flags items that mention another label on purpose; they are marked in
    ``misplaced``. ``tsne=False`` skips the (slow) 2-D map. Same ``seed``, same result.
    """
    texts, labels = list(texts), [str(label) for label in labels]
    if len(texts) != len(labels):
        raise ValueError(f"found {len(texts)} texts but {len(labels)} labels; give one per text")
    if len(texts) < 3:
        raise ValueError(f"need at least 3 texts to compare embeddings, found {len(texts)}")
    if not embedders:
        raise ValueError("embedders is empty; pass e.g. {'bert': make_embedder(model, tok)}")
    flags = [False] * len(texts) if confusable is None else [bool(flag) for flag in confusable]
    if len(flags) != len(texts):
        raise ValueError(f"confusable has {len(flags)} flags for {len(texts)} texts")
    n_clusters = len(set(labels)) if n_clusters is None else n_clusters
    if not 2 <= n_clusters <= len(texts):
        raise ValueError(f"n_clusters must be between 2 and {len(texts)}, found {n_clusters}")
    metrics.require_sklearn()
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    results = {}
    for name, embed in embedders.items():
        embeddings = metrics.as_embedding_matrix(embed(texts), n_expected=len(texts))
        # One thread for scikit-learn: its OpenMP workers spin while they wait, and on a busy
        # two-core machine a 300-point t-SNE took 44 s with two threads and 1 s with one.
        with threadpool_limits(limits=1):
            results[name] = _measure(name, embeddings, texts, labels, flags, n_clusters, seed, tsne)
    return ComparisonResult(texts=texts, labels=labels, confusable=flags, results=results)


def make_embedder(model: Any, tokenizer: Any, pooling: str = "mean", **options: Any) -> Embedder:
    """Wrap ``minitransformers.inference.sentence_embeddings`` as an embedder for
    :func:`compare_embeddings`; the model runs only when the embedder is called."""

    def embed(texts: list[str]) -> Any:
        try:
            from minitransformers.inference import sentence_embeddings
        except ImportError as error:
            raise ImportError(
                "make_embedder needs minitransformers.inference.sentence_embeddings, which this "
                "installation lacks; pass your own function texts -> (n, c) array instead"
            ) from error
        return sentence_embeddings(model, tokenizer, texts, pooling=pooling, **options)

    return embed


def _measure(name, embeddings, texts, labels, flags, n_clusters, seed, tsne) -> EmbedderResult:
    """KMeans, t-SNE, metrics and misplaced items for one ``(n, c)`` embedding matrix."""
    from sklearn.cluster import KMeans

    # KMeans on unit vectors groups by direction, matching the cosine used by every metric.
    unit = metrics.normalize_rows(embeddings)
    clusters = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(unit)
    neighbours = metrics.nearest_neighbours(embeddings)
    label_array = np.asarray(labels)
    majority = metrics.cluster_majority_labels(clusters, labels)
    by_cluster = set(metrics.misplaced_by_cluster(clusters, labels))
    by_neighbour = set(metrics.misplaced_by_neighbour(neighbours, labels))
    misplaced = [
        MisplacedPoint(
            index=i,
            text=texts[i],
            label=labels[i],
            cluster_label=majority[int(clusters[i])] if i in by_cluster else None,
            neighbour_label=labels[int(neighbours[i])] if i in by_neighbour else None,
            neighbour=int(neighbours[i]),
            confusable=flags[i],
        )
        for i in sorted(by_cluster | by_neighbour)
    ]
    return EmbedderResult(
        name=name,
        embeddings=embeddings,
        clusters=clusters,
        points_2d=_tsne(unit, seed) if tsne else None,
        neighbours=neighbours,
        nn_accuracy=float(np.mean(label_array[neighbours] == label_array)),
        ari=metrics.adjusted_rand_index(clusters, labels),
        silhouette=_silhouette_or_nan(embeddings, labels),
        misplaced=misplaced,
    )


def _silhouette_or_nan(embeddings: np.ndarray, labels: list[str]) -> float:
    """The silhouette, or NaN where it is undefined (one label, or every item its own label)."""
    if not 2 <= len(set(labels)) <= len(labels) - 1:
        return float("nan")
    return metrics.silhouette(embeddings, labels)


def _tsne(unit: np.ndarray, seed: int) -> np.ndarray:
    """A 2-D t-SNE map ``(n, c) -> (n, 2)`` with a perplexity suited to ``n``."""
    from sklearn.manifold import TSNE

    # Perplexity is roughly "how many neighbours each point attends to"; it must stay below n,
    # and the usual 30 is too many for a few dozen points.
    perplexity = float(min(30.0, max(2.0, (len(unit) - 1) / 3)))
    tsne = TSNE(
        n_components=2, perplexity=perplexity, metric="cosine", init="pca", random_state=seed
    )
    return tsne.fit_transform(unit)


def _nn_chance(labels: Sequence[str]) -> float:
    """1-NN accuracy of embeddings that ignore the text: the chance two random items agree."""
    counts = np.array(list({label: labels.count(label) for label in set(labels)}.values()))
    return float(np.sum((counts / counts.sum()) ** 2))
