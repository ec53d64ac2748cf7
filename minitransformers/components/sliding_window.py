"""Sliding-window (local) attention: each token sees only its ``window`` nearest neighbours.

Full attention costs ``t * t`` scores; with a window of ``w`` it costs
``t * w``. Information still travels further than ``w``: after ``L``
layers a token can draw on tokens up to ``L * (w - 1)`` positions back,
because each layer passes on what its window saw (Mistral, Longformer).

The window is a mask made from *positions*, so it works unchanged with
padding and with the KV cache (cached keys remember their positions). A
real long-context model would also drop keys older than the window from the
cache; here the cache keeps them and the mask hides them, which is simpler
to read.

Choose the width in a config with ``functools.partial``::

    config = GPTConfig.preset("tiny", attention=partial(SlidingWindowAttention, window=8))
"""

from __future__ import annotations

import torch
from einops import rearrange

from ..attention import MultiHeadAttention
from ..kv_cache import KVCache
from ..masks import combine_masks, default_positions


def window_mask(query_positions: torch.Tensor, key_positions: torch.Tensor, window: int) -> torch.Tensor:
    """``(b t)``, ``(b s)`` -> ``(b 1 t s)``: True where ``|query - key| < window``.

    The window looks both ways; a causal model's own mask removes the
    future, leaving ``masks.sliding_window_mask``.
    """
    distance = rearrange(query_positions, "b t -> b 1 t 1") - rearrange(key_positions, "b s -> b 1 1 s")
    return distance.abs() < window


class SlidingWindowAttention(MultiHeadAttention):
    """Multi-head attention whose mask also hides keys ``window`` or more positions away."""

    def __init__(self, hidden_size: int, n_heads: int, *, window: int = 16, **kwargs) -> None:
        super().__init__(hidden_size, n_heads, **kwargs)
        if not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be a positive integer (1 = each token sees only itself), got {window!r}")
        self.window = window

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        cache: KVCache | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """As ``MultiHeadAttention.forward``, with the window added to ``mask``."""
        if positions is None:
            past = len(cache) if cache is not None else 0
            positions = default_positions(x.shape[0], x.shape[1], past, device=x.device)
        # The keys are the cached tokens followed by the new ones; the cache knows their positions.
        key_positions = positions if cache is None else cache.key_positions_after(positions)
        local = window_mask(positions, key_positions, self.window)
        return super().forward(x, combine_masks(mask, local), positions, cache, output_attentions)

    def extra_repr(self) -> str:
        return f"n_heads={self.n_heads}, window={self.window}"
