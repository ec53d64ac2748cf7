"""Exercises on attention itself: scores, masking, and the whole scaled dot-product attention."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ..attention import attend, attention_scores, mask_scores, masked_softmax
from .exercise import SIZES, Exercise, Mistake, mask_for, qkv_inputs, randn

# --- 1. attention scores -------------------------------------------------------------------------

_SCALED_BY_TOKENS = (
    "You scaled by sqrt(t), the number of tokens (q.shape[-2]); the scale is 1/sqrt(d) with d the head "
    "size, the last axis of q and k (q.shape[-1]). The dot product of d-number vectors grows with d, "
    "whatever the length of the sentence."
)

ATTENTION_SCORES = Exercise(
    name="attention_scores",
    statement="""Compute scaled attention scores.

    def attention_scores(q, k):
        q: queries (b h t d), k: keys (b h s d)
        returns scores (b h t s): scores[b, h, i, j] = q[b, h, i] . k[b, h, j] / sqrt(d)
    """,
    make_inputs=lambda g, trial: {n: x for n, x in qkv_inputs(g, trial).items() if n != "v"},
    reference=attention_scores,
    output_names=("scores",),
    mistakes=(
        Mistake("missing_scale", lambda q, k: q @ k.transpose(-2, -1),
                "Your scores are not divided by sqrt(d) (d = q.shape[-1]). Without the scale, long heads "
                "give large scores and softmax saturates; divide by math.sqrt(d)."),
        Mistake("divided_by_d", lambda q, k: q @ k.transpose(-2, -1) / q.shape[-1],
                "You divided by d; the scale is 1/sqrt(d): the standard deviation of a dot product of d "
                "unit-variance terms is sqrt(d)."),
        Mistake("scale_by_tokens", lambda q, k: q @ k.transpose(-2, -1) / math.sqrt(q.shape[-2]),
                _SCALED_BY_TOKENS),
        Mistake("wrong_transpose", lambda q, k: k @ q.transpose(-2, -1) / math.sqrt(q.shape[-1]),
                "Your scores are transposed: rows must be queries and columns keys, (b h t s). Compute "
                "q @ k.transpose(-2, -1), not k @ q.transpose(-2, -1)."),
    ),
)


# --- 2. masking ----------------------------------------------------------------------------------

def _fill_with_minus_infinity(scores, mask):
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)


def _no_fully_masked_rule(scores, mask):
    return torch.softmax(mask_scores(scores, mask), dim=-1)


# Two conventions meet here: the textbook's -inf fill leaves such a row NaN, the library's rule gives it zeros
# (a query that may see nothing takes nothing). The statement says which one is graded; the message names both.
_ROW_WITHOUT_KEYS = (
    "Only the query that may see no key is wrong: the library gives it all-zero weights (and a zero output), "
    "{gave}. The library's rule: after the softmax, zero the rows where mask.any(dim=-1) is False."
)
_FULLY_MASKED_MISTAKES = (
    Mistake("minus_infinity_fill", _fill_with_minus_infinity, _ROW_WITHOUT_KEYS.format(
        gave="your function gave it NaN: filling with -inf makes its softmax 0/0. Fill with "
             "torch.finfo(scores.dtype).min instead")),
    Mistake("fully_masked_row_uniform", _no_fully_masked_rule, _ROW_WITHOUT_KEYS.format(
        gave="your function spread its weight evenly over keys it may not see (all its scores were equally "
             "negative)")),
)


def _masking_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, h, t, s, _ = SIZES[trial % len(SIZES)]
    return {"scores": randn(g, b, h, t, s) * 2, "mask": mask_for(g, trial, b, t, s)}


MASKING = Exercise(
    name="masking",
    statement="""Turn scores into attention weights, hiding the keys a query may not see.

    def attention_weights(scores, mask):
        scores: (b h t s); mask: bool, broadcastable to (b h t s), True = may attend
        returns weights (b h t s): softmax over keys of the scores, with masked keys at
        exactly 0; each row sums to 1, except a row where *every* key is masked, which is all 0.
    """,
    make_inputs=_masking_inputs,
    reference=lambda scores, mask: masked_softmax(mask_scores(scores, mask), mask),
    output_names=("weights",),
    mistakes=(
        Mistake("mask_after_softmax", lambda scores, mask: torch.softmax(scores, -1).masked_fill(~mask, 0.0),
                "You applied the mask after softmax: the masked weights are 0 but the rows no longer sum "
                "to 1. Mask the *scores* (fill with a very negative number), then take the softmax."),
        Mistake("filled_with_zero", lambda scores, mask: torch.softmax(scores.masked_fill(~mask, 0.0), -1),
                "You filled masked scores with 0, but a score of 0 still gets weight exp(0) = 1. Fill "
                "them with a very negative number (torch.finfo(scores.dtype).min) instead."),
        Mistake("inverted_mask",
                lambda scores, mask: masked_softmax(mask_scores(scores, ~mask), ~mask),
                "You hid the keys where mask is True; True means 'may attend'. Use ~mask where you fill."),
        Mistake("softmax_over_queries",
                lambda scores, mask: torch.softmax(mask_scores(scores, mask), dim=-2),
                "Your softmax runs over queries (dim=-2); each query's weights over the keys must sum "
                "to 1: use dim=-1."),
        *_FULLY_MASKED_MISTAKES,
    ),
)


# --- 3. scaled dot-product attention -------------------------------------------------------------

def _attention_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    inputs = qkv_inputs(g, trial)
    b, _, t, _ = inputs["q"].shape
    return {**inputs, "mask": mask_for(g, trial, b, t, inputs["k"].shape[2])}


def _with_values(weights_of: Callable) -> Callable:
    """Turn a wrong ``weights(scores, mask)`` into the wrong ``(output, weights)`` of attention."""

    def attention(q, k, v, mask):
        weights = weights_of(attention_scores(q, k), mask)
        return weights @ v, weights

    return attention


def _unscaled_attention(q, k, v, mask):
    weights = masked_softmax(mask_scores(q @ k.transpose(-2, -1), mask), mask)
    return weights @ v, weights


def _attention_scaled_by_tokens(q, k, v, mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-2])
    weights = masked_softmax(mask_scores(scores, mask), mask)
    return weights @ v, weights


def _attention_mask_after_softmax(q, k, v, mask):
    weights = torch.softmax(attention_scores(q, k), dim=-1).masked_fill(~mask, 0.0)
    return weights @ v, weights


ATTENTION = Exercise(
    name="attention",
    statement="""Scaled dot-product attention with a mask.

    def attention(q, k, v, mask):
        q (b h t d), k and v (b h s d), mask bool broadcastable to (b h t s), True = may attend
        returns (output (b h t d), weights (b h t s))
        weights = softmax(masked(q k^T / sqrt(d))), output = weights @ v;
        a query whose mask row is all False (it may see no key) gets weights all 0 and an output of 0
    """,
    make_inputs=_attention_inputs,
    reference=lambda q, k, v, mask: attend(q, k, v, mask),
    output_names=("output", "weights"),
    mistakes=(
        Mistake("missing_scale", _unscaled_attention,
                "Your scores are not divided by sqrt(d) (d = q.shape[-1]), so the softmax is too sharp."),
        Mistake("scale_by_tokens", _attention_scaled_by_tokens, _SCALED_BY_TOKENS),
        Mistake("mask_after_softmax", _attention_mask_after_softmax,
                "You applied the mask after softmax: rows of weights no longer sum to 1. Mask the scores "
                "first, then take the softmax."),
        *(Mistake(m.name, _with_values(m.produce), m.message) for m in _FULLY_MASKED_MISTAKES),
    ),
)
