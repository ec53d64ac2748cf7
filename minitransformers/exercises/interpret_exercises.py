"""Exercises on looking inside a model (notebook 8): the logit lens for one layer, and the induction score."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..config import GPTConfig
from ..interpret import induction_scores, model_parts, repeated_random_tokens
from ..masks import causal_mask
from ..models import GPTLMHeadModel
from .exercise import Exercise, Mistake, randn

# --- the logit lens for one layer (GPT's output path) --------------------------------------------

def _lens_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, t, c, v = [(2, 5, 8, 11), (1, 3, 12, 7), (3, 4, 6, 9), (2, 6, 4, 13)][trial % 4]
    final_norm = nn.LayerNorm(c)
    with torch.no_grad():  # random scale and shift, so a skipped or half-done norm shows
        final_norm.weight.copy_(1.0 + 0.5 * randn(g, c))
        final_norm.bias.copy_(0.5 * randn(g, c))
    return {"residual": 3.0 * randn(g, b, t, c) + 1.0, "final_norm": final_norm, "unembedding": randn(g, v, c)}


def _library_lens(residual: torch.Tensor, final_norm: nn.LayerNorm, unembedding: torch.Tensor) -> torch.Tensor:
    """The library's read-out (``interpret.model_parts``) of a GPT holding this norm and head."""
    v, c = unembedding.shape
    model = GPTLMHeadModel(GPTConfig(vocab_size=v, hidden_size=c, n_layers=1, n_heads=1, intermediate_size=c,
                                     max_positions=8))
    model.gpt.final_norm = final_norm
    model.lm_head.weight = nn.Parameter(unembedding)
    return model_parts(model).read_out(residual)


LOGIT_LENS_LAYER = Exercise(
    name="logit_lens_layer",
    statement="""The logit lens for one layer of a GPT: what would it predict if the stream stopped here?

    def logit_lens_layer(residual, final_norm, unembedding):
        residual (b t c): the residual stream after some layer (not normalised: GPT is pre-LN)
        final_norm: the model's final nn.LayerNorm; unembedding (v c): the tied head's weight
        returns logits (b t v): the stream read through the model's own output path
    """,
    make_inputs=_lens_inputs,
    reference=_library_lens,
    output_names=("logits",),
    mistakes=(
        Mistake("no_final_norm", lambda residual, final_norm, unembedding: residual @ unembedding.T,
                "You skipped the final LayerNorm. The stream after a middle layer is not normalised "
                "(GPT is pre-LN); the model itself always normalises before its head, so the lens must too."),
        Mistake("probabilities", lambda residual, final_norm, unembedding:
                (final_norm(residual) @ unembedding.T).softmax(dim=-1),
                "You returned probabilities (softmax); return the logits, one score per vocabulary entry."),
    ),
)


# --- the induction score -------------------------------------------------------------------------

def _induction_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, h, period = [(2, 3, 4), (1, 2, 6), (3, 4, 3), (2, 1, 5)][trial % 4]
    t = 2 * period
    scores = 3.0 * randn(g, b, h, t, t)  # sharp enough that the typical mistakes give other numbers
    weights = scores.masked_fill(~causal_mask(t, t), float("-inf")).softmax(dim=-1)
    return {"weights": weights, "period": period}


def _library_induction(weights: torch.Tensor, period: int) -> torch.Tensor:
    ids = repeated_random_tokens(3 * period, period, batch=weights.shape[0])  # any block of distinct tokens
    return induction_scores(weights[None], ids)[0]  # one layer: (1 b h t t) -> (1 h)


def _stripe(weights: torch.Tensor, period: int, offset: int, queries: range) -> torch.Tensor:
    rows = torch.tensor(list(queries))
    return weights[..., rows, rows - period + offset].mean(dim=(0, 2))


INDUCTION_SCORE = Exercise(
    name="induction_score",
    statement="""The induction score of every head of one layer, on random tokens repeated once.

    def induction_score(weights, period):
        weights (b h t t): one layer's attention weights on inputs made of `period` random tokens
        followed by the same tokens again (t = 2 * period)
        returns (h): for each head, the mean over the batch and over the queries of the second
        copy (positions period .. t - 1) of the weight on the key just *after* the earlier copy
        of the query's token
    """,
    make_inputs=_induction_inputs,
    reference=_library_induction,
    output_names=("scores",),
    mistakes=(
        Mistake("duplicate_token", lambda weights, period: _stripe(weights, period, 0, range(period, 2 * period)),
                "You measured attention to the earlier copy of the token itself (a duplicate-token head). "
                "An induction head looks one further, at the token that came after it: i - period + 1."),
        Mistake("all_queries", lambda weights, period: _stripe(weights, period, 1, range(period, 2 * period)) / 2,
                "You averaged over every query; only the second copy (i >= period) can do induction, so "
                "average over those queries only."),
    ),
)
