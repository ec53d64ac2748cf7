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
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from einops import einsum, rearrange
from torch import nn

from .hook_points import HookPoint
from .masks import causal_mask, combine_masks, default_positions, to_additive

if TYPE_CHECKING:
    from .kv_cache import KVCache

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


def attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    bias: torch.Tensor | None = None,
    dropout: float = 0.0,
    hooks: MultiHeadAttention | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention for queries ``(b h t d)`` over keys/values ``(b h s d)``: the maths, written once.

    ``mask`` is boolean (True = may attend) and broadcasts to ``(b h t s)``;
    ``bias`` (optional) is added to the scores, as ALiBi does; ``dropout``
    drops attention weights while training. ``hooks``: the layer whose hook
    points see the scores and weights (``MultiHeadAttention`` passes itself
    while hooks are attached). Returns ``(output (b h t d), weights (b h t s))``.
    """
    scores = attention_scores(q, k)
    if hooks is not None:
        scores = hooks.hook_scores(scores)
    if bias is not None:
        scores = scores + bias
    masked = mask_scores(scores, mask)
    if hooks is not None:
        masked = hooks.hook_masked_scores(masked)
    weights = masked_softmax(masked, mask)
    if hooks is not None:
        weights = hooks.hook_weights(weights)
    dropped = F.dropout(weights, p=dropout) if dropout > 0 else weights
    return einsum(dropped, v, "b h t s, b h s d -> b h t d"), weights


class MultiHeadAttention(nn.Module):
    """Self-attention with ``n_heads`` heads of size ``hidden_size // n_heads``.

    ``fused_qkv=True`` computes queries, keys and values with one matrix
    (GPT-2 stores them this way); ``False`` uses three (as BERT does). The
    maths is the same. ``causal=True`` (GPT) lets query ``i`` see keys up to
    ``i`` only; the ``mask`` given to ``forward`` then only adds padding.
    ``relative_positions``: a rotary or ALiBi module (``components/``) that
    acts on queries, keys and scores; ``None`` for models that add positions
    to the embeddings. ``impl="sdpa"`` hands the core to torch's fused
    kernel for speed; the hand-written ``"manual"`` path is the default and
    the one that can return attention weights.
    """

    shares_kv_heads = False  # grouped-query attention (components/) sets True

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
        causal: bool = False,
        relative_positions: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if hidden_size % n_heads != 0:
            raise ValueError(f"hidden_size={hidden_size} is not divisible by n_heads={n_heads}")
        if impl not in ATTENTION_IMPLS:
            raise ValueError(f"unknown attention impl {impl!r}; choose one of {ATTENTION_IMPLS}")
        self.n_heads = n_heads
        self.head_size = hidden_size // n_heads
        self.impl = impl
        self.causal = causal
        self.fused_qkv = fused_qkv
        if fused_qkv:
            self.qkv = nn.Linear(hidden_size, 3 * hidden_size, bias=bias)
        else:
            self.query = nn.Linear(hidden_size, hidden_size, bias=bias)
            self.key = nn.Linear(hidden_size, hidden_size, bias=bias)
            self.value = nn.Linear(hidden_size, hidden_size, bias=bias)
        self.output = nn.Linear(hidden_size, hidden_size, bias=bias)
        self.relative_positions = relative_positions
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
        """Keys/values as the query heads read them; called only when ``shares_kv_heads``.

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
        cache: KVCache | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x (b t c)`` -> ``(output (b t c), weights (b h t s) or None)``.

        ``mask`` (boolean, True = may attend) broadcasts to ``(b h t s)``;
        ``positions (b t)`` are the tokens' positions, which the KV cache and
        ``relative_positions`` need; ``cache`` holds earlier tokens' keys and
        values when generating.
        """
        q, k, v = self.project_qkv(x)
        if positions is None:
            past = len(cache) if cache is not None else 0
            positions = default_positions(x.shape[0], x.shape[1], past, device=x.device)
        if self.relative_positions is not None:
            q, k = self.relative_positions.rotate(q, k, positions)
        key_positions = positions
        if cache is not None:
            k, v, key_positions = cache.append(k, v, positions)
        if self.shares_kv_heads:
            k, v = self.expand_kv_heads(k), self.expand_kv_heads(v)
        if HookPoint.in_use:
            q, k, v = self.hook_q(q), self.hook_k(k), self.hook_v(v)
        bias = None
        if self.relative_positions is not None:
            bias = self.relative_positions.score_bias(positions, key_positions)

        if self.impl == "sdpa" and not output_attentions and not (HookPoint.in_use and self._watched()):
            mixed, weights = self._fused_attention(q, k, v, mask, bias), None
        else:
            if self.causal:
                mask = combine_masks(causal_mask(q.shape[2], k.shape[2], device=q.device), mask)
            dropout = self.attention_dropout.p if self.training else 0.0
            hooks = self if HookPoint.in_use else None
            mixed, weights = attend(q, k, v, mask, bias=bias, dropout=dropout, hooks=hooks)
        if HookPoint.in_use:
            mixed = self.hook_head_outputs(mixed)
        merged = rearrange(mixed, "b h t d -> b t (h d)")
        return self.output_dropout(self.output(merged)), weights if output_attentions else None

    def _watched(self) -> bool:
        """True when someone watches the scores or weights, which only the manual path computes."""
        return any(hook.has_hooks() for hook in (self.hook_scores, self.hook_masked_scores, self.hook_weights))

    def _fused_attention(self, q, k, v, mask, bias) -> torch.Tensor:
        """The same computation through ``torch.nn.functional.scaled_dot_product_attention``.

        With no padding and no bias, a causal layer only says ``is_causal``:
        no mask tensor is built, and torch picks its fastest kernel. One new
        token after cached ones (a generation step) is the last position, so
        it may see every key: no mask at all.
        """
        dropout = self.attention_dropout.p if self.training else 0.0
        t, s = q.shape[2], k.shape[2]
        if mask is None and bias is None and (t == s or t == 1 or not self.causal):
            return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=self.causal and t > 1)
        if self.causal:
            mask = combine_masks(causal_mask(t, s, device=q.device), mask)
        additive = None if mask is None else to_additive(mask, q.dtype)
        if bias is not None:
            additive = bias.to(q.dtype) if additive is None else additive + bias
        mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=additive, dropout_p=dropout)
        if mask is not None:
            # A mask (padding, say) can hide every key of a query; as in attend(), it outputs zeros.
            mixed = torch.where(mask.any(dim=-1, keepdim=True), mixed, 0.0)
        return mixed
