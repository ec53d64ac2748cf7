"""Exercises on masks (who may look at whom) and on one attention head written out in full."""

from __future__ import annotations

import math
from typing import Any

import torch
from einops import rearrange

from ..attention import attend, mask_scores, masked_softmax
from ..masks import causal_mask, padding_mask
from .exercise import SIZES, Exercise, Mistake, randn

# --- causal mask ---------------------------------------------------------------------------------

CAUSAL_MASK = Exercise(
    name="causal_mask",
    statement="""Build GPT's causal mask.

    def causal_mask(t):
        t: the number of tokens (an int)
        returns a bool tensor (t t): mask[i, j] is True when query i may look at key j,
        that is when j <= i (a token sees itself and the tokens before it, never after).
    """,
    make_inputs=lambda g, trial: {"t": (3, 1, 6, 5)[trial % 4]},
    reference=lambda t: causal_mask(t),
    output_names=("mask",),
    mistakes=(
        Mistake("upper_triangle", lambda t: torch.ones(t, t, dtype=torch.bool).triu(),
                "Your mask is the upper triangle: query i sees the *future* keys j >= i. Rows are queries "
                "and columns keys, so the allowed cells are j <= i, the lower triangle (torch.tril)."),
        Mistake("diagonal_hidden", lambda t: torch.ones(t, t, dtype=torch.bool).tril(-1),
                "Your mask hides the diagonal: a token must see itself (j <= i, not j < i). Without it the "
                "first token has nothing at all to attend to."),
        Mistake("all_true", lambda t: torch.ones(t, t, dtype=torch.bool),
                "Your mask lets every token see every other one: that is BERT's bidirectional mask. GPT's "
                "must hide the keys after each query."),
    ),
)


# --- padding mask --------------------------------------------------------------------------------

def _padding_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, s = [(2, 5), (3, 4), (1, 6), (4, 3)][trial % 4]
    lengths = torch.randint(1, s + 1, (b,), generator=g)
    lengths[0] = max(1, s - 2)  # at least one row with padding, so that hiding it matters
    return {"attention_mask": (torch.arange(s) < rearrange(lengths, "b -> b 1")).long()}


PADDING_MASK = Exercise(
    name="padding_mask",
    statement="""Turn the tokenizer's attention_mask into a mask that attention can use.

    def padding_mask(attention_mask):
        attention_mask: (b s) of 1 (a real token) and 0 (padding)
        returns a bool tensor (b 1 1 s): True where the *key* is a real token.
        The two size-1 dimensions broadcast over heads (h) and queries (t): no query of any
        head may read a padding token.
    """,
    make_inputs=_padding_inputs,
    reference=padding_mask,
    output_names=("mask",),
    mistakes=(
        Mistake("hides_queries", lambda attention_mask: rearrange(attention_mask.bool(), "b s -> b 1 s 1"),
                "Your mask hides padded *queries* (rows), shape (b 1 s 1). Padding must be hidden as *keys* "
                "(columns), so that no real token reads it: shape (b 1 1 s)."),
        Mistake("inverted", lambda attention_mask: rearrange(attention_mask == 0, "b s -> b 1 1 s"),
                "Your mask is True on the padding. True means 'may attend', so it must be True on the real "
                "tokens (attention_mask == 1)."),
        Mistake("no_broadcast_dims", lambda attention_mask: attention_mask.bool(),
                "Your mask is (b s); attention scores are (b h t s), and (b s) would line b up with h and t. "
                "Add the two size-1 dimensions: (b 1 1 s)."),
    ),
)


# --- one attention head --------------------------------------------------------------------------

def _head_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, _, t, _, d = SIZES[trial % len(SIZES)]
    c = d + 3  # the model width differs from the head size, so swapped weights show
    return {
        "x": randn(g, b, t, c),
        "w_query": randn(g, c, d) / math.sqrt(c),
        "w_key": randn(g, c, d) / math.sqrt(c),
        "w_value": randn(g, c, d) / math.sqrt(c),
        "mask": causal_mask(t),
    }


def _one_head(x, w_query, w_key, w_value, mask, scale_by="d", mask_first=True, dim=-1, mask_rule="given"):
    """A head with one thing changed, for the typical mistakes: ``(b t c) -> (b t d)`` and ``(b t t)``."""
    q, k, v = (rearrange(x @ w, "b t d -> b 1 t d") for w in (w_query, w_key, w_value))
    size = {"d": q.shape[-1], "c": x.shape[-1], "t": x.shape[1], None: 1}[scale_by]
    scores = q @ k.transpose(-2, -1) / math.sqrt(size)
    mask = {"given": mask, "transposed": mask.transpose(-2, -1), "inverted": ~mask,
            "none": torch.ones_like(mask)}[mask_rule]
    if not mask_first:
        weights = torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)
    elif dim == -1 and mask_rule == "given":
        weights = masked_softmax(mask_scores(scores, mask), mask)
    else:  # the plain softmax a student writes: a row with every key hidden comes out uniform
        weights = torch.softmax(mask_scores(scores, mask), dim=dim)
    return rearrange(weights @ v, "b 1 t d -> b t d"), rearrange(weights, "b 1 t s -> b t s")


def _library_head(x, w_query, w_key, w_value, mask):
    q, k, v = (rearrange(x @ w, "b t d -> b 1 t d") for w in (w_query, w_key, w_value))
    output, weights = attend(q, k, v, mask)
    return rearrange(output, "b 1 t d -> b t d"), rearrange(weights, "b 1 t s -> b t s")


ATTENTION_HEAD = Exercise(
    name="attention_head",
    statement="""One attention head, from token vectors to outputs.

    def attention_head(x, w_query, w_key, w_value, mask):
        x: token vectors (b t c); w_query, w_key, w_value: projections (c d)
        mask: bool (t t), True = may attend (here GPT's causal mask)
        returns (output (b t d), weights (b t t)):
        q = x @ w_query (likewise k, v); weights = softmax over keys of the masked q k^T / sqrt(d);
        output = weights @ v
    """,
    make_inputs=_head_inputs,
    reference=_library_head,
    output_names=("output", "weights"),
    mistakes=(
        Mistake("missing_scale", lambda *a: _one_head(*a, scale_by=None),
                "Your scores are not divided by sqrt(d) (d = w_query.shape[1], the head size), so the "
                "softmax is too sharp."),
        Mistake("mask_after_softmax", lambda *a: _one_head(*a, mask_first=False),
                "You applied the mask after softmax: rows of weights no longer sum to 1. Fill the hidden "
                "scores with a very negative number first, then take the softmax."),
        Mistake("softmax_over_queries", lambda *a: _one_head(*a, dim=-2),
                "Your softmax runs over queries (dim=-2); each query's weights over the keys must sum to "
                "1: use dim=-1."),
        Mistake("upside_down_mask", lambda *a: _one_head(*a, mask_rule="transposed"),
                "Your mask is upside down: each query sees the keys *after* it (the upper triangle, j >= i) "
                "instead of the ones before it. Use the mask you are given as it is: True where query i may "
                "see key j, which for GPT is j <= i (the lower triangle)."),
        Mistake("inverted_mask", lambda *a: _one_head(*a, mask_rule="inverted"),
                "You hid the keys where the mask is True; True means 'may attend'. Fill the scores where "
                "the mask is *False* (~mask)."),
        Mistake("no_mask", lambda *a: _one_head(*a, mask_rule="none"),
                "Your head ignores the mask: every query sees every key, the later ones too. Fill the scores "
                "where the mask is False with a very negative number before the softmax."),
        Mistake("scale_by_tokens", lambda *a: _one_head(*a, scale_by="t"),
                "You scaled by sqrt(t), the number of tokens (x.shape[1]); the scale is 1/sqrt(d) with d the "
                "head size, the width of q and k (w_query.shape[1])."),
        Mistake("scale_by_width", lambda *a: _one_head(*a, scale_by="c"),
                "You scaled by sqrt(c), the model width (x.shape[-1]); the scale is 1/sqrt(d) with d the "
                "head size, the width of q and k (w_query.shape[1])."),
    ),
)
