"""Normalisation layers, registered by name so a config can choose one.

LayerNorm rescales each token's vector to zero mean and unit variance, then
applies a learned scale and shift. torch's ``nn.LayerNorm`` is exactly the
textbook formula, so we use it as is.
"""

from __future__ import annotations

from torch import nn

from .registry import NORMS


@NORMS.register("layernorm")
def layer_norm(hidden_size: int, eps: float = 1e-12) -> nn.Module:
    """A LayerNorm over the last dimension (``c``)."""
    return nn.LayerNorm(hidden_size, eps=eps)
