"""Measured comparisons of text embeddings: cluster, map to 2-D, and score against labels.

Read in order: ``metrics`` (the numbers), ``compare_embeddings`` (the
pipeline), ``passages`` (a second dataset: Shakespeare by play), ``plot``
(the t-SNE maps), ``finetune`` (a little supervised training, k-fold
cross-validated). Then the pair tasks, BERT against GPT task by task
(``pair_tasks``, and the parts it runs: ``genres``, ``pooling``, ``probes``,
``retrieval``, ``word_tasks``, ``finetune_genre``, ``cross_objective``,
``pair_table``; see ``README.md`` here). scikit-learn is needed:
``pip install 'minitransformers[analysis]'``.
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
from minitransformers.analysis.genres import FOLIO_GENRES
from minitransformers.analysis.metrics import (
    adjusted_rand_index,
    cosine_similarity_matrix,
    nearest_neighbour_accuracy,
    nearest_neighbours,
    silhouette,
)
from minitransformers.analysis.pair_table import Row, verdict
from minitransformers.analysis.pair_tasks import Pair, PairTaskSettings, run_pair_tasks
from minitransformers.analysis.passages import DEFAULT_PLAYS, Passage, shakespeare_passages
from minitransformers.analysis.plot import plot

__all__ = [
    "DEFAULT_PLAYS",
    "FOLIO_GENRES",
    "ComparisonResult",
    "CrossValidationResult",
    "EmbedderResult",
    "MisplacedPoint",
    "Pair",
    "PairTaskSettings",
    "Passage",
    "Row",
    "SequenceClassifier",
    "adjusted_rand_index",
    "compare_embeddings",
    "cosine_similarity_matrix",
    "cross_validate",
    "make_embedder",
    "nearest_neighbour_accuracy",
    "nearest_neighbours",
    "plot",
    "run_pair_tasks",
    "shakespeare_passages",
    "silhouette",
    "verdict",
]
