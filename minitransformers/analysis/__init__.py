"""Measured comparisons of text embeddings: cluster, map to 2-D, and score against labels.

Read in order: ``metrics`` (the numbers), ``compare_embeddings`` (the
pipeline), ``passages`` (a second dataset: Shakespeare by play), ``plot``
(the t-SNE maps), ``finetune`` (a little supervised training, k-fold
cross-validated). scikit-learn is needed: ``pip install 'minitransformers[analysis]'``.
The product reviews live in :mod:`minitransformers.data.reviews`.
"""

from minitransformers.analysis.compare_embeddings import (
    ComparisonResult,
    EmbedderResult,
    MisplacedPoint,
    compare_embeddings,
    make_embedder,
)
from minitransformers.analysis.finetune import CrossValidationResult, SequenceClassifier, cross_validate
from minitransformers.analysis.metrics import (
    adjusted_rand_index,
    cosine_similarity_matrix,
    nearest_neighbour_accuracy,
    nearest_neighbours,
    silhouette,
)
from minitransformers.analysis.passages import DEFAULT_PLAYS, Passage, shakespeare_passages
from minitransformers.analysis.plot import plot

__all__ = [
    "DEFAULT_PLAYS",
    "ComparisonResult",
    "CrossValidationResult",
    "EmbedderResult",
    "MisplacedPoint",
    "Passage",
    "SequenceClassifier",
    "adjusted_rand_index",
    "compare_embeddings",
    "cosine_similarity_matrix",
    "cross_validate",
    "make_embedder",
    "nearest_neighbour_accuracy",
    "nearest_neighbours",
    "plot",
    "shakespeare_passages",
    "silhouette",
]
