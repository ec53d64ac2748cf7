"""Retrieval by embedding similarity: for a line, find the line that follows it among candidates.

Each query line comes with ``n_candidates`` lines of the same play: the one
that really follows it and ``n_candidates - 1`` others drawn at random. The
candidates are ranked by the cosine similarity of their vector to the
query's, and two numbers summarise where the true next line lands:

* **recall@1**: how often it ranks first (chance: ``1 / n_candidates``);
* **MRR**, the mean reciprocal rank: ``1 / rank`` averaged (chance:
  ``(1 + 1/2 + ... + 1/k) / k`` for ``k`` candidates, about 0.052 for 100).

A vector that cannot tell lines apart ties every candidate. Ties are scored
by their expectation under a random order (a tie of ``m`` lines at the top
gives recall@1 ``1/m``), so a constant embedding scores exactly chance
rather than 1 (ties won) or 0 (ties lost).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .metrics import as_embedding_matrix, normalize_rows


def next_line_candidates(eligible: Sequence[bool], n_queries: int, n_candidates: int = 100,
                         seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Queries and their candidates over a play's ``n`` lines: ``(q,)`` and ``(q, n_candidates)`` indices.

    A query is a line ``i`` whose next line ``i + 1`` is eligible too (long enough to mean
    something); column 0 of its candidates is ``i + 1``, the others are distinct eligible lines
    other than ``i`` and ``i + 1``. Seeded: the same call gives the same draw.
    """
    eligible = np.asarray(eligible, dtype=bool)
    pool = np.flatnonzero(eligible)
    starts = np.flatnonzero(eligible[:-1] & eligible[1:])
    if len(pool) < n_candidates + 1:
        raise ValueError(f"only {len(pool)} eligible lines for {n_candidates} candidates per query (plus the "
                         f"query itself); use fewer candidates or a longer text")
    rng = np.random.default_rng(seed)
    queries = np.sort(rng.choice(starts, size=min(n_queries, len(starts)), replace=False))
    candidates = np.empty((len(queries), n_candidates), dtype=np.int64)
    for row, query in enumerate(queries):
        others = pool[(pool != query) & (pool != query + 1)]
        candidates[row, 0] = query + 1
        candidates[row, 1:] = rng.choice(others, size=n_candidates - 1, replace=False)
    return queries, candidates


def expected_ranks(similarities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected recall@1 and reciprocal rank of column 0 in each row of ``(q, k)`` similarities.

    With ``g`` candidates strictly more similar and ``m`` as similar, the true one's rank is
    equally likely to be any of ``g + 1 .. g + m + 1``.
    """
    truth = similarities[:, :1]
    greater = (similarities[:, 1:] > truth).sum(axis=1)
    tied = (similarities[:, 1:] == truth).sum(axis=1)
    recall_at_1 = np.where(greater == 0, 1.0 / (tied + 1), 0.0)
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, similarities.shape[1] + 1))])
    reciprocal = (harmonic[greater + tied + 1] - harmonic[greater]) / (tied + 1)  # mean of 1/r over the tie
    return recall_at_1, reciprocal


def retrieval_scores(embeddings, queries: np.ndarray, candidates: np.ndarray) -> dict[str, float]:
    """Recall@1 and MRR of finding ``candidates[:, 0]`` for each query, by cosine similarity.

    ``embeddings`` ``(n, c)``: one row per line; ``queries`` ``(q,)`` and ``candidates`` ``(q, k)`` index it.
    """
    unit = normalize_rows(as_embedding_matrix(embeddings))
    query_vectors = unit[queries]  # (q c)
    similarities = np.einsum("qc,qkc->qk", query_vectors, unit[candidates])  # (q k)
    recall_at_1, reciprocal = expected_ranks(similarities)
    return {"recall_at_1": float(recall_at_1.mean()), "mrr": float(reciprocal.mean()), "queries": len(queries)}


def chance_scores(n_candidates: int) -> dict[str, float]:
    """Recall@1 and MRR of a random ranking of ``n_candidates`` lines."""
    return {"recall_at_1": 1.0 / n_candidates,
            "mrr": float(np.sum(1.0 / np.arange(1, n_candidates + 1)) / n_candidates)}
