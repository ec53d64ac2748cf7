"""``HookPoint``: a named spot in the forward pass where an activation can be read or replaced.

A hook point returns its input unchanged. Because it is an ``nn.Module``,
its place in ``model.named_modules()`` gives it a stable name such as
``blocks.0.attention.hook_weights``, and torch's forward hooks on it can
record the activation (``run_with_cache``) or return a replacement
(zero a head, patch in an activation from another input).
"""

from __future__ import annotations

import torch
from torch import nn


class HookPoint(nn.Module):
    """Identity module that marks an activation worth looking at."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        # A model has a dozen hook points per layer. With nothing attached, skip
        # nn.Module's call machinery: small models on a GPU are bound by such overhead.
        if not (self._forward_hooks or self._forward_pre_hooks):
            return x
        return super().__call__(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x
