"""The two exercises of notebook 8: the logit lens for one layer, and the induction score.

Correct solutions are written as a student would (plain torch); each typical
mistake must fail, named, with the task's name first.
"""

from __future__ import annotations

import pytest
import torch

from minitransformers import exercises


def lens_ok(residual, final_norm, unembedding):
    return final_norm(residual) @ unembedding.T


def induction_ok(weights, period):
    t = weights.shape[-1]
    queries = torch.arange(period, t)
    return weights[:, :, queries, queries - period + 1].mean(dim=(0, 2))


@pytest.mark.parametrize("name, solution", [("logit_lens_layer", lens_ok), ("induction_score", induction_ok)])
def test_correct_solutions_pass(name, solution):
    result = exercises.check(name, solution)
    assert result.passed, result.message


def _duplicate_token(weights, period):
    queries = torch.arange(period, weights.shape[-1])
    return weights[:, :, queries, queries - period].mean(dim=(0, 2))


def _over_all_queries(weights, period):
    t = weights.shape[-1]
    queries = torch.arange(period, t)
    return weights[:, :, queries, queries - period + 1].sum(dim=2).mean(dim=0) / t


@pytest.mark.parametrize("name, wrong, mistake, words", [
    ("logit_lens_layer", lambda r, norm, w: r @ w.T, "no_final_norm", "skipped the final LayerNorm"),
    ("logit_lens_layer", lambda r, norm, w: (norm(r) @ w.T).softmax(-1), "probabilities", "probabilities"),
    ("induction_score", _duplicate_token, "duplicate_token", "duplicate-token head"),
    ("induction_score", _over_all_queries, "all_queries", "second copy"),
])
def test_typical_mistakes_are_named(name, wrong, mistake, words):
    result = exercises.check(name, wrong)
    assert not result.passed and result.mistake == mistake, result.message
    assert words in result.message and result.message.startswith(f"✗ {name}: trial")


def test_a_wrong_shape_is_explained():
    result = exercises.check("induction_score", lambda weights, period: weights.mean(dim=(0, 2, 3)).sum())
    assert not result.passed and "shape" in result.message
