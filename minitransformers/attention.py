"""Scaled dot-product attention and multi-head attention, written by hand.

The picture: every position holds a box. A box has a *tag* (its key) and
*goods* (its value). A position looking for information writes a *query*;
it compares the query with every tag (dot product), turns the matches into
shares that sum to one (softmax), and takes that share of each box's goods
(weighted sum of values).

Shapes, in einops letters: ``b`` batch, ``h`` heads, ``t`` query positions,
``s`` key positions, ``d`` head size, ``c`` model width (``c = h * d``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import einsum, rearrange
from torch import nn

from .hook_points import HookPoint
from .kv_cache import KVCache
from .masks import to_additive
from .registry import ATTENTIONS

ATTENTION_IMPLS = ("manual", "sdpa")


def attention_scores(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """How well each query matches each key: ``(b h t d), (b h s d) -> (b h t s)``.

    Divided by ``sqrt(d)`` because a dot product of ``d`` unit-variance terms
    has variance ``d``; unscaled, softmax would saturate on long heads.
    """
    return einsum(q, k, "b h t d, b h s d -> b h t s") / math.sqrt(q.shape[-1])


def mask_scores(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Put the most negative float where ``mask`` is False, so softmax gives those keys 0."""
    if mask is None:
        return scores
    return torch.where(mask, scores, torch.finfo(scores.dtype).min)


def masked_softmax(masked_scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over keys; a query whose keys are *all* masked gets all-zero weights.

    Softmax runs in float32 so that half-precision scores do not overflow.
    Without the final fill, a fully masked row would spread its weight
    evenly over keys it may not see.
    """
    weights = torch.softmax(masked_scores, dim=-1, dtype=torch.float32).to(masked_scores.dtype)
    if mask is not None:
        weights = torch.where(mask.any(dim=-1, keepdim=True), weights, 0.0)
    return weights


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout: float = 0.0,
    bias: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention for queries ``(b h t d)`` over keys/values ``(b h s d)``.

    ``mask`` is boolean (True = may attend) and broadcasts to ``(b h t s)``;
    ``bias`` (optional) is added to the scores, as position schemes like
    ALiBi do. Returns ``(output (b h t d), weights (b h t s))``.
    """
    scores = attention_scores(q, k)
    if bias is not None:
        scores = scores + bias
    weights = masked_softmax(mask_scores(scores, mask), mask)
    dropped = F.dropout(weights, p=dropout) if dropout > 0 else weights
    return einsum(dropped, v, "b h t s, b h s d -> b h t d"), weights


@ATTENTIONS.register("multi_head")
class MultiHeadAttention(nn.Module):
    """Self-attention with ``n_heads`` heads of size ``hidden_size // n_heads``.

    ``fused_qkv=True`` computes queries, keys and values with one matrix
    (GPT-2 stores them this way); ``False`` uses three (as BERT does). The
    maths is the same. ``impl="sdpa"`` hands the core to torch's fused
    kernel for speed; the hand-written ``"manual"`` path is the default and
    the one that can return attention weights.
    """

    def __init__(
        self,
        hidden_size: int,
        n_heads: int,
        *,
        fused_qkv: bool = False,
        bias: bool = True,
        attention_dropout: float = 0.0,
        output_dropout: float = 0.0,
        impl: str = "manual",
    ) -> None:
        super().__init__()
        if hidden_size % n_heads != 0:
            raise ValueError(f"hidden_size={hidden_size} is not divisible by n_heads={n_heads}")
        if impl not in ATTENTION_IMPLS:
            raise ValueError(f"unknown attention impl {impl!r}; choose one of {ATTENTION_IMPLS}")
        self.n_heads = n_heads
        self.head_size = hidden_size // n_heads
        self.impl = impl
        self.fused_qkv = fused_qkv
        if fused_qkv:
            self.qkv = nn.Linear(hidden_size, 3 * hidden_size, bias=bias)
        else:
            self.query = nn.Linear(hidden_size, hidden_size, bias=bias)
            self.key = nn.Linear(hidden_size, hidden_size, bias=bias)
            self.value = nn.Linear(hidden_size, hidden_size, bias=bias)
        self.output = nn.Linear(hidden_size, hidden_size, bias=bias)
        self.attention_dropout = nn.Dropout(attention_dropout)
        self.output_dropout = nn.Dropout(output_dropout)
        # Named spots for run_with_cache and hooks (see hook_points.py).
        self.hook_q = HookPoint()  # (b h t d)
        self.hook_k = HookPoint()  # (b h s d), after the cache
        self.hook_v = HookPoint()  # (b h s d), after the cache
        self.hook_scores = HookPoint()  # (b h t s), scaled, before the mask
        self.hook_masked_scores = HookPoint()  # (b h t s)
        self.hook_weights = HookPoint()  # (b h t s), rows sum to 1
        self.hook_head_outputs = HookPoint()  # (b h t d), before heads are merged

    def project_qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(b t c)`` -> queries, keys, values, each split into heads ``(b h t d)``."""
        if self.fused_qkv:
            return rearrange(self.qkv(x), "b t (three h d) -> three b h t d", three=3, h=self.n_heads)
        split = "b t (h d) -> b h t d"
        return (
            rearrange(self.query(x), split, h=self.n_heads),
            rearrange(self.key(x), split, h=self.n_heads),
            rearrange(self.value(x), split, h=self.n_heads),
        )

    def expand_kv_heads(self, kv: torch.Tensor) -> torch.Tensor:
        """Keys/values as the query heads read them; here one per head, so unchanged.

        Variants that share key/value heads between query heads override this
        (see ``components/grouped_query.py``); it runs after the cache, so the
        cache keeps only the shared heads.
        """
        return kv

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        position_scheme: nn.Module | None = None,
        cache: KVCache | None = None,
        return_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x (b t c)`` -> ``(output (b t c), weights (b h t s) or None)``.

        ``positions (b t)`` are the tokens' positions, used by position
        schemes that act inside attention (rotary, ALiBi); ``cache`` holds
        earlier tokens' keys and values when generating.
        """
        q, k, v = self.project_qkv(x)
        if positions is None:
            positions = torch.arange(x.shape[1], device=x.device).expand(x.shape[0], -1)
        if position_scheme is not None:
            q, k = position_scheme.rotate(q, k, positions)
        key_positions = positions
        if cache is not None:
            k, v, key_positions = cache.append(k, v, positions)
        k, v = self.expand_kv_heads(k), self.expand_kv_heads(v)
        q, k, v = self.hook_q(q), self.hook_k(k), self.hook_v(v)
        bias = None if position_scheme is None else position_scheme.score_bias(positions, key_positions)

        if self.impl == "sdpa" and not return_weights and not self._inner_hooks_in_use():
            mixed, weights = self._fused_attention(q, k, v, mask, bias), None
        else:
            scores = self.hook_scores(attention_scores(q, k))
            if bias is not None:
                scores = scores + bias
            masked = self.hook_masked_scores(mask_scores(scores, mask))
            weights = self.hook_weights(masked_softmax(masked, mask))
            mixed = einsum(self.attention_dropout(weights), v, "b h t s, b h s d -> b h t d")
        mixed = self.hook_head_outputs(mixed)
        merged = rearrange(mixed, "b h t d -> b t (h d)")
        return self.output_dropout(self.output(merged)), weights if return_weights else None

    def _inner_hooks_in_use(self) -> bool:
        """True when someone watches the scores or weights, which only the manual path computes."""
        inner = (self.hook_scores, self.hook_masked_scores, self.hook_weights)
        return any(hook._forward_hooks or hook._forward_pre_hooks for hook in inner)

    def _fused_attention(self, q, k, v, mask, bias) -> torch.Tensor:
        """The same computation through ``torch.nn.functional.scaled_dot_product_attention``."""
        additive = None if mask is None else to_additive(mask, q.dtype)
        if bias is not None:
            additive = bias if additive is None else additive + bias
        dropout = self.attention_dropout.p if self.training else 0.0
        mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=additive, dropout_p=dropout)
        if mask is not None:
            # Match the hand-written path: a query that may see no key outputs zeros.
            mixed = torch.where(mask.any(dim=-1, keepdim=True), mixed, 0.0)
        return mixed
