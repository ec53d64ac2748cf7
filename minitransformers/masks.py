"""Attention masks: which key positions each query position may look at.

One convention for the whole library: a mask is a boolean tensor and
``True`` means "may attend". Masks broadcast against attention scores of
shape ``(b, h, t, s)``: ``t`` query positions, ``s`` key positions.

- BERT reads in both directions: every token may see every real token
  (``bidirectional_mask`` combined with ``padding_mask``).
- GPT reads left to right: token ``i`` sees tokens ``0..i`` only
  (``causal_mask``), so that predicting the next token is not cheating.

Inside softmax a boolean mask becomes additive (``to_additive``): 0 where
allowed and a very negative number where not, so ``exp`` makes those
weights exactly zero.
"""

from __future__ import annotations

import torch
from einops import rearrange


def bidirectional_mask(t: int, s: int | None = None, device=None) -> torch.Tensor:
    """All-True mask of shape ``(t, s)``: every query may see every key."""
    s = t if s is None else s
    return torch.ones(t, s, dtype=torch.bool, device=device)


def causal_mask(t: int, s: int | None = None, device=None) -> torch.Tensor:
    """Lower-triangular mask of shape ``(t, s)``: query ``i`` sees keys ``<= i``.

    When ``s > t`` the ``t`` queries are the *last* ``t`` positions of the
    sequence (as when generating with a KV cache, where earlier keys are
    cached), so query ``i`` sits at absolute position ``s - t + i``: the
    triangle moves ``s - t`` columns to the right.
    """
    s = t if s is None else s
    if s < t:
        raise ValueError(f"causal_mask needs at least as many keys as queries, got t={t}, s={s}")
    return torch.ones(t, s, dtype=torch.bool, device=device).tril(diagonal=s - t)


def padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Turn a ``(b, s)`` tensor of 1 (real token) / 0 (padding) into a ``(b, 1, 1, s)`` mask.

    The result hides padded *keys* from every query of every head.
    """
    if attention_mask.dim() != 2:
        raise ValueError(
            f"attention_mask must have shape (batch, seq_len), got shape {tuple(attention_mask.shape)}"
        )
    return rearrange(attention_mask.bool(), "b s -> b 1 1 s")


def combine_masks(*masks: torch.Tensor | None) -> torch.Tensor | None:
    """Logical AND of broadcastable boolean masks (``None`` entries are skipped)."""
    combined = None
    for mask in masks:
        if mask is None:
            continue
        combined = mask if combined is None else combined & mask
    return combined


def to_additive(mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Boolean mask -> additive mask: 0.0 where allowed, the dtype's most negative value where not.

    We use ``finfo(dtype).min`` rather than ``-inf``: a row with every key
    masked then stays finite (``-inf - -inf`` would be NaN), which matters in
    float16 and bfloat16.
    """
    additive = torch.full(mask.shape, torch.finfo(dtype).min, dtype=dtype, device=mask.device)
    return additive.masked_fill(mask, 0.0)


def sliding_window_mask(t: int, window: int, s: int | None = None, device=None) -> torch.Tensor:
    """Causal mask that also forgets keys more than ``window - 1`` positions back."""
    s = t if s is None else s
    query_positions = rearrange(torch.arange(s - t, s, device=device), "t -> t 1")
    key_positions = rearrange(torch.arange(s, device=device), "s -> 1 s")
    return (key_positions <= query_positions) & (key_positions > query_positions - window)


def default_positions(b: int, t: int, past: int = 0, device=None) -> torch.Tensor:
    """Positions ``(b t)`` of ``t`` new tokens after ``past`` earlier ones: ``past, past + 1, ...``.

    Left-padded batches pass their own positions instead (see ``generation``).
    """
    return torch.arange(past, past + t, device=device).expand(b, t)
