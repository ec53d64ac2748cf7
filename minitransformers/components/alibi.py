"""ALiBi (Attention with Linear Biases): penalise attention by distance instead of adding positions.

Nothing is added to the embeddings and nothing is learned. Head ``h``
subtracts ``slope_h * |query position - key position|`` from every score,
so far-away keys get less attention. Steep heads look only nearby; gentle
heads look far back. The slopes form a geometric sequence: with 8 heads
they are 1/2, 1/4, ..., 1/256.

Because the penalty is a formula of the distance, there is no table of
positions that could run out: a model trained on 128 tokens still runs on
1,000 (``max_positions=None``), and the paper shows it stays good longer
than learned or sinusoidal positions do.

In a causal model keys are never ahead of the query and ``|m - n| = m - n``,
the paper's formula. The absolute value also gives BERT-style encoders a
symmetric version.
"""

from __future__ import annotations

import math

import torch
from einops import rearrange

from ..positional import ActsInAttention


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """The paper's slopes, one per head: ``2^(-8/n), 2^(-16/n), ...`` for ``n`` a power of two.

    For other head counts, take the slopes of the power of two just below
    and fill up with every other slope of the power of two above.
    """
    if n_heads <= 0:
        raise ValueError(f"n_heads must be positive, got {n_heads}")
    below = 2 ** math.floor(math.log2(n_heads))
    slopes = [2 ** (-8 * (i + 1) / below) for i in range(below)]
    above = [2 ** (-8 * (i + 1) / (2 * below)) for i in range(2 * below)]
    slopes += above[0::2][: n_heads - below]
    return torch.tensor(slopes, dtype=torch.float32)


class ALiBiPositions(ActsInAttention):
    """ALiBi: a fixed per-head bias on attention scores; runs past any trained length."""

    def __init__(self, hidden_size: int, max_positions: int | None = None, n_heads: int | None = None) -> None:
        super().__init__()
        if n_heads is None:
            raise ValueError("ALiBi has one slope per head: build it with n_heads=...")
        self.max_positions = None  # a distance formula, not a table: no length limit
        self.register_buffer("slopes", alibi_slopes(n_heads), persistent=False)

    def score_bias(self, query_positions: torch.Tensor, key_positions: torch.Tensor) -> torch.Tensor:
        """``(b t)``, ``(b s)`` -> bias ``(b h t s)``: ``-slope_h * |t - s|``."""
        distance = (
            rearrange(query_positions, "b t -> b 1 t 1") - rearrange(key_positions, "b s -> b 1 1 s")
        ).abs()
        return -rearrange(self.slopes, "h -> 1 h 1 1") * distance

    def extra_repr(self) -> str:
        return f"n_heads={self.slopes.numel()}"
