"""Transformer blocks: attention and a feed-forward network, each wrapped in a residual.

The blocks are built from the same parts; they differ in two choices.

- **EncoderBlock** (BERT): *post*-LN. ``x = norm(x + attention(x))`` then
  ``x = norm(x + feedforward(x))``. Every token may see every other token.
- **DecoderBlock** (GPT-2): *pre*-LN. ``x = x + attention(norm(x))`` then
  ``x = x + feedforward(norm(x))``. Its attention layer is causal.
- **PreLNEncoderBlock** (ModernBERT): the decoder's order in an encoder,
  whose attention layer sees both ways.

Why the LayerNorm moved: in post-LN the residual path itself goes through a
norm at every layer, so gradients to early layers shrink and deep models
need a careful learning-rate warm-up. Pre-LN leaves a clean identity path
from the input to the output (the "residual stream"), which trains deep
stacks stably; GPT-2 adds one final norm after the last block to make up
for the un-normalised stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from .attention import MultiHeadAttention
from .feedforward import FeedForward
from .hook_points import HookPoint
from .positional import relative_positions
from .registry import ATTENTIONS, FEEDFORWARDS, build_norm

if TYPE_CHECKING:
    from .kv_cache import KVCache


def build_attention(config) -> MultiHeadAttention | nn.Module:
    """The attention layer: ``MultiHeadAttention`` unless ``config.attention`` names another."""
    kwargs = dict(
        hidden_size=config.hidden_size,
        n_heads=config.n_heads,
        fused_qkv=config.fused_qkv,
        attention_dropout=config.attention_dropout,
        output_dropout=config.hidden_dropout,
        impl=config.attn_impl,
        causal=config.causal,
        # Options for custom attention classes, e.g. {"n_kv_heads": 2} for grouped-query.
        **config.extra.get("attention_kwargs", {}),
    )
    relative = relative_positions(config)  # rotary or ALiBi; None for positions in the embeddings
    if relative is not None:
        kwargs["relative_positions"] = relative
    if not config.bias:  # Llama, ModernBERT
        kwargs["bias"] = False
    if config.attention == "multi_head":
        return MultiHeadAttention(**kwargs)
    attention = ATTENTIONS.build(config.attention, **kwargs)
    if config.causal and getattr(attention, "causal", None) is not True:
        raise TypeError(
            f"attention {config.attention!r} was built with causal=True but its .causal is not True; "
            f"a GPT's attention must hide later tokens itself: store the argument as self.causal and "
            f"combine masks.causal_mask(t, s) with the mask it is given (see MultiHeadAttention.forward)"
        )
    return attention


def build_feedforward(config) -> FeedForward | nn.Module:
    """The feed-forward layer: ``FeedForward`` unless ``config.feedforward`` names another."""
    kwargs = dict(hidden_size=config.hidden_size, intermediate_size=config.intermediate_size,
                  activation=config.activation, dropout=config.hidden_dropout)
    if not config.bias:
        kwargs["bias"] = False
    if config.feedforward == "mlp":
        return FeedForward(**kwargs)
    return FEEDFORWARDS.build(config.feedforward, **kwargs)


class _Block(nn.Module):
    """What both blocks share: the sub-layers and the named hook points."""

    pre_ln = False  # True: the norms come before attention and the feed-forward (the model adds a final norm)

    def __init__(self, config) -> None:
        super().__init__()
        self.attention = build_attention(config)
        self.attention_norm = build_norm(config)
        self.feedforward = build_feedforward(config)
        self.feedforward_norm = build_norm(config)
        self.hook_resid_pre = HookPoint()  # (b t c) entering the block
        self.hook_attention_out = HookPoint()  # (b t c) what attention adds
        self.hook_resid_mid = HookPoint()  # (b t c) after the attention residual
        self.hook_feedforward_out = HookPoint()  # (b t c) what the feed-forward adds
        self.hook_resid_post = HookPoint()  # (b t c) leaving the block


class EncoderBlock(_Block):
    """BERT-style post-LN block: ``(b t c) -> (b t c)``."""

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        cache: KVCache | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        hooked = HookPoint.in_use  # False unless a hook is attached: then skip every hook point
        if hooked:
            x = self.hook_resid_pre(x)
        attended, weights = self.attention(x, mask, positions, cache, output_attentions)
        if hooked:
            attended = self.hook_attention_out(attended)
        x = self.attention_norm(x + attended)
        if hooked:
            x = self.hook_resid_mid(x)
        transformed = self.feedforward(x)
        if hooked:
            transformed = self.hook_feedforward_out(transformed)
        x = self.feedforward_norm(x + transformed)
        if hooked:
            x = self.hook_resid_post(x)
        return x, weights


class DecoderBlock(_Block):
    """GPT-2-style pre-LN block: ``(b t c) -> (b t c)``."""

    pre_ln = True

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        cache: KVCache | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        hooked = HookPoint.in_use  # False unless a hook is attached: then skip every hook point
        if hooked:
            x = self.hook_resid_pre(x)
        attended, weights = self.attention(self.attention_norm(x), mask, positions, cache, output_attentions)
        if hooked:
            attended = self.hook_attention_out(attended)
        x = x + attended
        if hooked:
            x = self.hook_resid_mid(x)
        transformed = self.feedforward(self.feedforward_norm(x))
        if hooked:
            transformed = self.hook_feedforward_out(transformed)
        x = x + transformed
        if hooked:
            x = self.hook_resid_post(x)
        return x, weights


class PreLNEncoderBlock(DecoderBlock):
    """ModernBERT's block: GPT-2's pre-LN order in an encoder, ``(b t c) -> (b t c)``.

    Nothing in the block makes a decoder causal: the attention layer does (``config.causal``),
    and a BERT config builds it bidirectional. So the encoder borrows the decoder's order.
    """
