"""Sinusoidal positions, from "Attention Is All You Need": a fixed wave pattern per position.

Position ``p`` gets the vector whose pair ``f`` is
``(sin(p * w_f), cos(p * w_f))`` with ``w_f = 10000^(-2f / c)``: fast waves
in the first pairs, slow ones in the last, like the digits of a counter.
Nothing is learned. Because ``sin`` and ``cos`` of ``p + k`` are a rotation
of those of ``p``, the dot product of two position vectors depends only on
their distance ``k``, which lets attention pick out relative offsets.
"""

from __future__ import annotations

import torch
from einops import einsum, rearrange

from torch import nn


def sinusoidal_vectors(positions: torch.Tensor, hidden_size: int, base: float = 10000.0) -> torch.Tensor:
    """``positions (b t)`` -> ``(b t c)``: interleaved ``sin, cos`` of ``position * w_f``."""
    speeds = base ** (-torch.arange(0, hidden_size, 2, dtype=torch.float32, device=positions.device) / hidden_size)
    angles = einsum(positions.float(), speeds, "b t, f -> b t f")
    waves = torch.stack([angles.sin(), angles.cos()], dim=-1)
    return rearrange(waves, "b t f two -> b t (f two)")


class SinusoidalPositions(nn.Module):
    """Fixed sin/cos position vectors added to the token embeddings; no parameters.

    The vectors exist for any position, but ``max_positions`` keeps the
    config's value: a model has only learned to read the positions it saw.
    """

    acts_in_attention = False  # added to the embeddings (see positional.py)

    def __init__(self, hidden_size: int, max_positions: int | None, n_heads: int | None = None) -> None:
        super().__init__()
        if hidden_size % 2 != 0:
            raise ValueError(f"sinusoidal positions need an even hidden_size (sin/cos pairs), got {hidden_size}")
        self.hidden_size = hidden_size
        self.max_positions = max_positions

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        return sinusoidal_vectors(positions, self.hidden_size)

    def extra_repr(self) -> str:
        return f"hidden_size={self.hidden_size}, max_positions={self.max_positions}"
