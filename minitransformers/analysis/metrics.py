"""Numbers that say how well a set of embeddings separates known labels.

The original BERT-vs-GPT article judged a t-SNE picture by eye. A picture
can mislead (t-SNE invents gaps and hides overlaps), so we measure, on the
embeddings themselves (shape ``(n, c)``: ``n`` texts, ``c`` features):

* **adjusted Rand index** (ARI) of KMeans clusters against the labels:
  1 when the clusters are exactly the labels, about 0 for a random split.
* **silhouette score** with the *true* labels and cosine distance: for each
  item, how much closer it is to its own label than to the nearest other
  label, averaged; from -1 (mixed up) to 1 (tight, well apart).
* **1-nearest-neighbour accuracy**: leave each item out, find its most
  similar other item by cosine similarity, and count how often the two share
  a label. It needs no clustering at all, so it says whether *neighbourhoods*
  are right even when the clusters are oddly shaped.

Cosine is used throughout because embedding length mostly reflects text
length and a few very large features (GPT-2 has some), not meaning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

INSTALL_HINT = "pip install 'minitransformers[analysis]'  (or: pip install scikit-learn)"


def require_sklearn() -> Any:
    """Import scikit-learn, or raise an ImportError that says how to install it."""
    try:
        import sklearn
    except ImportError as error:
        raise ImportError(
            f"this analysis needs scikit-learn, which is not installed; run: {INSTALL_HINT}"
        ) from error
    return sklearn


def as_embedding_matrix(embeddings: Any, n_expected: int | None = None) -> np.ndarray:
    """Turn a ``(n, c)`` numpy array or torch tensor into a float64 numpy array, checked."""
    if hasattr(embeddings, "detach"):  # a torch tensor: leave the graph, the GPU and half precision
        embeddings = embeddings.detach().cpu().float().numpy()
    matrix = np.asarray(embeddings, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(
            f"embeddings must have shape (n, c), one row per text, found shape {matrix.shape}; "
            "pool the token vectors of each text into one vector first (e.g. mean pooling)"
        )
    if n_expected is not None and matrix.shape[0] != n_expected:
        raise ValueError(
            f"expected {n_expected} embeddings (one per text), found {matrix.shape[0]} rows"
        )
    if not np.isfinite(matrix).all():
        raise ValueError("embeddings contain NaN or infinity; check the model's output")
    return matrix


def normalize_rows(embeddings: np.ndarray) -> np.ndarray:
    """Scale each row to length 1 (all-zero rows stay zero), so dot products are cosines."""
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    return embeddings / np.maximum(norms, 1e-12)


def cosine_similarity_matrix(embeddings: np.ndarray) -> np.ndarray:
    """Cosine similarity of every pair of rows: ``(n, c) -> (n, n)``."""
    unit = normalize_rows(embeddings)
    return unit @ unit.T


def nearest_neighbours(embeddings: np.ndarray) -> np.ndarray:
    """Index of each row's most cosine-similar *other* row: ``(n, c) -> (n,)``.

    Ties go to the lower index (``argmax`` takes the first).
    """
    if len(embeddings) < 2:
        raise ValueError(f"nearest neighbours need at least 2 items, found {len(embeddings)}")
    similarity = cosine_similarity_matrix(embeddings)
    np.fill_diagonal(similarity, -np.inf)  # leave-one-out: an item is not its own neighbour
    return similarity.argmax(axis=1)


def nearest_neighbour_accuracy(embeddings: np.ndarray, labels: Sequence[Any]) -> float:
    """Leave-one-out 1-NN accuracy with cosine similarity: the fraction of items whose
    nearest other item has the same label. Chance is about ``sum(share_of_label**2)``."""
    labels = np.asarray(labels)
    _check_same_length(embeddings, labels)
    neighbours = nearest_neighbours(embeddings)
    return float(np.mean(labels[neighbours] == labels))


def adjusted_rand_index(clusters: Sequence[int], labels: Sequence[Any]) -> float:
    """Agreement of a clustering with the labels, corrected for chance (scikit-learn's ARI)."""
    require_sklearn()
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(np.asarray(labels), np.asarray(clusters)))


def silhouette(embeddings: np.ndarray, labels: Sequence[Any]) -> float:
    """Mean silhouette of the *true* labels under cosine distance, in [-1, 1]."""
    require_sklearn()
    from sklearn.metrics import silhouette_score

    labels = np.asarray(labels)
    _check_same_length(embeddings, labels)
    n_labels = len(np.unique(labels))
    if not 2 <= n_labels <= len(labels) - 1:
        raise ValueError(
            f"the silhouette needs between 2 and n-1 distinct labels, found {n_labels} "
            f"for {len(labels)} items"
        )
    return float(silhouette_score(embeddings, labels, metric="cosine"))


def cluster_majority_labels(clusters: Sequence[int], labels: Sequence[Any]) -> dict[int, Any]:
    """For each cluster id, the most common true label among its members.

    Ties go to the label seen first in the data, so the answer is deterministic.
    """
    members: dict[int, list[Any]] = {}
    for cluster, label in zip(clusters, labels, strict=True):
        members.setdefault(int(cluster), []).append(label)
    return {cluster: Counter(found).most_common(1)[0][0] for cluster, found in members.items()}


def misplaced_by_cluster(clusters: Sequence[int], labels: Sequence[Any]) -> list[int]:
    """Indices of items whose cluster's majority label is not their own label."""
    majority = cluster_majority_labels(clusters, labels)
    return [i for i, (c, label) in enumerate(zip(clusters, labels)) if majority[int(c)] != label]


def misplaced_by_neighbour(neighbours: Sequence[int], labels: Sequence[Any]) -> list[int]:
    """Indices of items whose nearest neighbour carries another label."""
    return [i for i, j in enumerate(neighbours) if labels[int(j)] != labels[i]]


def _check_same_length(embeddings: np.ndarray, labels: np.ndarray) -> None:
    if len(embeddings) != len(labels):
        raise ValueError(
            f"found {len(embeddings)} embeddings but {len(labels)} labels; give one label per row"
        )
