"""Next-line retrieval: a perfect embedding finds every next line, a constant one scores exactly chance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from minitransformers.analysis.retrieval import (
    chance_scores,
    expected_ranks,
    next_line_candidates,
    retrieval_scores,
)


def _perfect(n_lines: int) -> np.ndarray:
    """Points on a circle, each gap smaller than the one before: every line's nearest is the next one, (n, 2).

    Similarity is symmetric, so line i's next line must be closer to it than line i - 1 is,
    whose own next line is i: the gaps must shrink.
    """
    gaps = 0.02 * 0.99 ** np.arange(n_lines)  # all together under 2 radians: cosine falls with the angle
    angles = np.concatenate([[0.0], np.cumsum(gaps)[:-1]])
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def test_candidates_hold_the_true_next_line_first_and_distinct_eligible_others():
    eligible = np.ones(300, dtype=bool)
    eligible[::7] = False
    queries, candidates = next_line_candidates(eligible, n_queries=50, n_candidates=100, seed=3)
    assert len(queries) == 50 and candidates.shape == (50, 100)
    assert (candidates[:, 0] == queries + 1).all()
    for query, row in zip(queries, candidates):
        assert eligible[query] and eligible[row].all()
        assert len(set(row.tolist())) == 100 and query not in row
    again = next_line_candidates(eligible, n_queries=50, n_candidates=100, seed=3)
    assert (again[0] == queries).all() and (again[1] == candidates).all()


def test_too_few_lines_for_the_candidates_are_refused():
    with pytest.raises(ValueError, match="only 50 eligible lines for 100 candidates"):
        next_line_candidates(np.ones(50, dtype=bool), n_queries=5, n_candidates=100)


def test_a_perfect_embedding_scores_one_and_a_reversed_one_ranks_last():
    queries, candidates = next_line_candidates(np.ones(400, dtype=bool), n_queries=80, n_candidates=100)
    perfect = retrieval_scores(_perfect(400), queries, candidates)
    assert perfect["recall_at_1"] == 1.0 and perfect["mrr"] == 1.0
    similarities = -np.arange(100.0)[::-1][None].repeat(3, axis=0)  # the true line (column 0) least similar
    recall, reciprocal = expected_ranks(similarities)
    assert (recall == 0).all() and reciprocal == pytest.approx(np.full(3, 1 / 100))


def test_a_constant_embedding_scores_exactly_chance():
    queries, candidates = next_line_candidates(np.ones(400, dtype=bool), n_queries=80, n_candidates=100)
    constant = retrieval_scores(np.ones((400, 8)), queries, candidates)
    chance = chance_scores(100)
    assert constant["recall_at_1"] == pytest.approx(chance["recall_at_1"]) == pytest.approx(0.01)
    assert constant["mrr"] == pytest.approx(chance["mrr"])


def test_ties_are_scored_by_their_expectation_over_every_order():
    similarities = np.array([[0.5, 0.9, 0.5, 0.5, 0.1]])  # one above the truth, two tied with it
    recall, reciprocal = expected_ranks(similarities)
    # brute force: every order of the tied candidates is equally likely
    ranks = [1 + 1 + order.index(0) for order in itertools.permutations([0, 2, 3])]
    assert recall[0] == 0.0
    assert reciprocal[0] == pytest.approx(np.mean([1 / rank for rank in ranks]))
    top_tie = expected_ranks(np.array([[0.7, 0.7, 0.2]]))
    assert top_tie[0][0] == 0.5 and top_tie[1][0] == pytest.approx((1 + 1 / 2) / 2)


def test_chance_mrr_is_the_mean_reciprocal_rank_of_a_shuffle():
    rng = np.random.default_rng(0)
    similarities = rng.random((20000, 10))
    _, reciprocal = expected_ranks(similarities)
    assert reciprocal.mean() == pytest.approx(chance_scores(10)["mrr"], abs=0.01)
