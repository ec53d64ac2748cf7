"""Rotary position embeddings (RoPE): rotate queries and keys by an angle that grows with position.

Each head's ``d`` numbers are read as ``d / 2`` pairs, i.e. points in a
plane. At position ``p`` pair ``f`` is turned by the angle ``p * theta_f``
with ``theta_f = base ** (-2f / d)``: the first pairs spin fast, the last
ones slowly, like the hands of a clock.

Why it gives *relative* positions: a dot product between two points in a
plane only depends on the angle between them. Turn the query by ``m * theta``
and the key by ``n * theta`` and their dot product sees only ``(m - n) *
theta``. So the attention score of query ``m`` and key ``n`` depends on the
distance ``m - n``, never on ``m`` or ``n`` alone, and nothing is added to
the token embeddings.
"""

from __future__ import annotations

import torch
from einops import einsum, rearrange

from ..positional import ActsInAttention


def rotate_pairs(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Turn each pair of ``x (b h t d)`` by ``angles`` (broadcastable to ``(b h t d/2)``)."""
    pairs = rearrange(x.float(), "b h t (f two) -> b h t f two", two=2)
    first, second = pairs.unbind(dim=-1)
    cos, sin = angles.cos(), angles.sin()
    # The 2-D rotation matrix [[cos, -sin], [sin, cos]] applied to (first, second).
    rotated = torch.stack([first * cos - second * sin, first * sin + second * cos], dim=-1)
    return rearrange(rotated, "b h t f two -> b h t (f two)").to(x.dtype)


class RotaryPositions(ActsInAttention):
    """Rotary embeddings: no parameters, no added vectors; acts on queries and keys.

    ``config.positional="rotary"`` gives each attention layer one as ``relative_positions``:
    ``MultiHeadAttention.forward`` calls ``rotate`` before the KV cache, so cached keys are
    stored already turned.

    ``max_positions`` is kept from the config: the rotation can be computed
    for any position, but a model trained on short texts has never seen the
    angles of far-away pairs, and its quality drops past that length.
    """

    def __init__(
        self, hidden_size: int, max_positions: int | None, n_heads: int | None = None, base: float = 10000.0
    ) -> None:
        super().__init__()
        if n_heads is None:
            raise ValueError("rotary positions act per head: build them with n_heads=...")
        head_size = hidden_size // n_heads
        if head_size % 2 != 0:
            raise ValueError(
                f"rotary positions turn pairs of numbers, so the head size must be even; "
                f"got hidden_size={hidden_size} / n_heads={n_heads} = {head_size}"
            )
        self.max_positions = max_positions
        self.head_size = head_size
        # theta_f = base^(-2f/d): one speed per pair, from 1 radian per position down to ~1/base.
        speeds = base ** (-torch.arange(0, head_size, 2, dtype=torch.float32) / head_size)
        # Not persistent: it is recomputed from the config, so checkpoints need not store it.
        self.register_buffer("speeds", speeds, persistent=False)

    def angles(self, positions: torch.Tensor) -> torch.Tensor:
        """``positions (b t)`` -> rotation angles ``(b t d/2)``."""
        return einsum(positions.float(), self.speeds, "b t, f -> b t f")

    def rotate(
        self, q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Turn queries and keys ``(b h t d)`` (any number of heads) by their positions' angles."""
        angles = rearrange(self.angles(positions), "b t f -> b 1 t f")  # the same for every head
        return rotate_pairs(q, angles), rotate_pairs(k, angles)

    def extra_repr(self) -> str:
        return f"head_size={self.head_size}, max_positions={self.max_positions}"
