"""The KV cache: keys and values of tokens already seen, kept between generation steps.

Without a cache, generating token ``n`` re-runs attention over all ``n``
previous tokens, recomputing their keys and values every step. Keys and
values of earlier tokens never change in a causal model (they cannot see
the future), so we keep them: each step computes q, k, v for the *new*
token only and appends k, v here.
"""

from __future__ import annotations

import torch


class KVCache:
    """Cached keys and values for one attention layer.

    ``keys`` and ``values`` have shape ``(b, h, s, d)``; ``positions`` has
    shape ``(b, s)`` and remembers where each cached key sits in its
    sequence (position schemes such as ALiBi need it).
    """

    def __init__(self) -> None:
        self.keys: torch.Tensor | None = None
        self.values: torch.Tensor | None = None
        self.positions: torch.Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.keys is None else self.keys.shape[2]

    def __repr__(self) -> str:
        if self.keys is None:
            return "KVCache(empty)"
        b, h, s, d = self.keys.shape
        return f"KVCache(b={b}, h={h}, s={s}, d={d}, {self.size_in_bytes() / 1024:.1f} KiB)"

    def append(
        self, keys: torch.Tensor, values: torch.Tensor, positions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Add the new tokens' ``(b, h, t, d)`` keys/values; return everything cached so far."""
        if self.keys is None:
            self.keys, self.values, self.positions = keys, values, positions
        else:
            self.keys = torch.cat([self.keys, keys], dim=2)
            self.values = torch.cat([self.values, values], dim=2)
            self.positions = torch.cat([self.positions, positions], dim=1)
        return self.keys, self.values, self.positions

    def reorder(self, batch_indices: torch.Tensor) -> None:
        """Keep only (or reorder) the given batch rows, e.g. when some sequences finish."""
        if self.keys is not None:
            self.keys = self.keys[batch_indices]
            self.values = self.values[batch_indices]
            self.positions = self.positions[batch_indices]

    def size_in_bytes(self) -> int:
        """Memory held by the cached keys and values."""
        if self.keys is None:
            return 0
        return self.keys.numel() * self.keys.element_size() * 2


def new_cache(n_layers: int) -> list[KVCache]:
    """One empty ``KVCache`` per layer: what ``model(..., cache=...)`` fills in."""
    return [KVCache() for _ in range(n_layers)]
