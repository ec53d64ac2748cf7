"""Transformer blocks: attention and a feed-forward network, each wrapped in a residual.

Both blocks are built from the same parts; they differ in two choices.

- **EncoderBlock** (BERT): *post*-LN. ``x = norm(x + attention(x))`` then
  ``x = norm(x + feedforward(x))``. Every token may see every other token.
- **DecoderBlock** (GPT-2): *pre*-LN. ``x = x + attention(norm(x))`` then
  ``x = x + feedforward(norm(x))``. The model passes a causal mask.

Why the LayerNorm moved: in post-LN the residual path itself goes through a
norm at every layer, so gradients to early layers shrink and deep models
need a careful learning-rate warm-up. Pre-LN leaves a clean identity path
from the input to the output (the "residual stream"), which trains deep
stacks stably; GPT-2 adds one final norm after the last block to make up
for the un-normalised stream.
"""

from __future__ import annotations

import torch
from torch import nn

from .hook_points import HookPoint
from .kv_cache import KVCache
from .registry import ATTENTIONS, BLOCKS, FEEDFORWARDS, NORMS


def build_attention(config) -> nn.Module:
    """The attention sub-layer named by ``config.attention``."""
    return ATTENTIONS.build(config.attention, **config.attention_kwargs())


def build_feedforward(config) -> nn.Module:
    """The feed-forward sub-layer named by ``config.feedforward``."""
    return FEEDFORWARDS.build(
        config.feedforward,
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        activation=config.activation,
        dropout=config.hidden_dropout,
    )


def build_norm(config) -> nn.Module:
    """The normalisation layer named by ``config.norm``."""
    return NORMS.build(config.norm, hidden_size=config.hidden_size, eps=config.layer_norm_eps)


class _Block(nn.Module):
    """What both blocks share: the sub-layers and the named hook points."""

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


@BLOCKS.register("encoder")
class EncoderBlock(_Block):
    """BERT-style post-LN block: ``(b t c) -> (b t c)``."""

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        position_scheme: nn.Module | None = None,
        cache: KVCache | None = None,
        return_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.hook_resid_pre(x)
        attended, weights = self.attention(
            x, mask, positions, position_scheme, cache=cache, return_weights=return_weights
        )
        x = self.hook_resid_mid(self.attention_norm(x + self.hook_attention_out(attended)))
        x = self.feedforward_norm(x + self.hook_feedforward_out(self.feedforward(x)))
        return self.hook_resid_post(x), weights


@BLOCKS.register("decoder")
class DecoderBlock(_Block):
    """GPT-2-style pre-LN block: ``(b t c) -> (b t c)``."""

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        position_scheme: nn.Module | None = None,
        cache: KVCache | None = None,
        return_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.hook_resid_pre(x)
        attended, weights = self.attention(
            self.attention_norm(x), mask, positions, position_scheme,
            cache=cache, return_weights=return_weights,
        )
        x = self.hook_resid_mid(x + self.hook_attention_out(attended))
        x = x + self.hook_feedforward_out(self.feedforward(self.feedforward_norm(x)))
        return self.hook_resid_post(x), weights
