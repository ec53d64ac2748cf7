"""The KV cache: keys and values of tokens already seen, kept between generation steps.

Without a cache, generating token ``n`` re-runs attention over all ``n``
previous tokens, recomputing their keys and values every step. Keys and
values of earlier tokens never change in a causal model (they cannot see
the future), so we keep them: each step computes q, k, v for the *new*
token only and writes k, v here.

The cache is **preallocated**: one buffer of ``capacity`` slots per layer,
written in place. Appending ``t`` tokens copies those ``t`` tokens and
nothing else; joining tensors with ``torch.cat`` instead would copy the
whole cache at every step, and that copy, not the maths, would dominate
long generations. Attention reads a view of the filled slots, so nothing
is copied on the way out either.

Shapes: keys and values ``(b, h, s, d)``, positions ``(b, s)``.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import torch

_FIRST_GROWABLE_CAPACITY = 64  # slots a cache without a capacity starts with; it doubles when full


class KVCache:
    """Cached keys and values for one attention layer, in preallocated buffers.

    ``capacity`` is the most tokens the cache may hold (prompt plus new
    tokens); appending past it is an error. Without one the buffers double
    when full, which costs a copy now and then, not at every step.
    ``positions`` remembers where each cached key sits in its sequence
    (position schemes such as ALiBi need it).

    A cache belongs to one generation: one batch size, and one layer of one
    model, the one that filled it (``claim``). Keys of the same shapes from
    another model would be read without complaint and give wrong logits, so
    reusing a cache elsewhere is an error that says so.
    """

    def __init__(self, capacity: int | None = None) -> None:
        if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1):
            raise ValueError(f"capacity must be a positive number of tokens (or None to grow), got {capacity!r}")
        self.capacity = capacity
        self.length = 0  # slots filled so far
        self._keys: torch.Tensor | None = None  # (b, h, capacity, d)
        self._values: torch.Tensor | None = None  # (b, h, capacity, d)
        self._positions: torch.Tensor | None = None  # (b, capacity)
        self._owner: weakref.ref | None = None  # the layer that filled the cache (see ``claim``)
        # Static mode (see ``make_static``): compiled one-token steps over every slot.
        self.static_slot: torch.Tensor | None = None

    # ----- what is cached --------------------------------------------------------------------

    @property
    def keys(self) -> torch.Tensor | None:
        """``(b, h, s, d)`` keys of the ``s`` cached tokens (a view, not a copy)."""
        return None if self._keys is None else self._keys[:, :, : self.length]

    @property
    def values(self) -> torch.Tensor | None:
        """``(b, h, s, d)`` values of the ``s`` cached tokens (a view, not a copy)."""
        return None if self._values is None else self._values[:, :, : self.length]

    @property
    def positions(self) -> torch.Tensor | None:
        """``(b, s)`` positions of the cached tokens (a view, not a copy)."""
        return None if self._positions is None else self._positions[:, : self.length]

    def __len__(self) -> int:
        return self.length

    def __repr__(self) -> str:
        if self._keys is None:
            return f"KVCache(empty, capacity={self.capacity})"
        b, h, slots, d = self._keys.shape
        return (f"KVCache(b={b}, h={h}, s={self.length} of {slots} slots, d={d}, "
                f"{self.size_in_bytes() / 1024:.1f} KiB used)")

    def size_in_bytes(self) -> int:
        """Memory held by the cached keys and values (the filled slots)."""
        if self._keys is None:
            return 0
        return 2 * self._keys[:, :, :1].numel() * self.length * self._keys.element_size()

    def allocated_bytes(self) -> int:
        """Memory of the buffers, filled or not (what the allocator really holds)."""
        if self._keys is None:
            return 0
        return 2 * self._keys.numel() * self._keys.element_size() + self._positions.numel() * 8

    # ----- what the model calls --------------------------------------------------------------

    def claim(self, owner: object, name: str = "this KV cache") -> None:
        """Make ``owner`` (the layer about to write here) the cache's owner, or check that it is.

        An empty cache takes any owner; a filled one only the layer that filled
        it. A weak reference, not ``id()``: a new model may reuse a dead one's id.
        """
        if self.length == 0 and self.static_slot is None:
            self._owner = weakref.ref(owner)
            return
        if self._owner is None or self._owner() is not owner:
            raise ValueError(
                f"{name} was filled by another model (or another layer of this one): its keys would give "
                f"wrong logits; make a new cache with new_cache(model.config.n_layers), or clear() "
                f"every layer of this one first"
            )

    def past_length(self) -> int:
        """How many keys precede the new tokens, as attention sees them.

        Normally the tokens cached so far. A static cache shows attention all
        its slots (the caller's mask hides the empty ones), so that every
        decode step has the same shapes: then it is ``capacity - 1``.
        """
        return self.capacity - 1 if self.static_slot is not None else self.length

    def append(
        self, keys: torch.Tensor, values: torch.Tensor, positions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Write the new tokens' ``(b, h, t, d)`` keys/values in place; return everything cached so far."""
        self._check(keys, values, positions)
        t = keys.shape[2]
        if self.static_slot is not None:
            return self._append_static(keys, values, positions)
        if self._keys is None:
            self._allocate(keys, self.capacity or max(t, _FIRST_GROWABLE_CAPACITY))
        if self.length + t > self._keys.shape[2]:
            if self.capacity is not None:
                raise ValueError(
                    f"the KV cache is full: it holds at most {self.capacity} tokens, has {self.length} "
                    f"and was given {t} more; make a larger one with new_cache(n_layers, capacity=...) "
                    f"(prompt + new tokens), or capacity=None to let it grow"
                )
            self._grow(max(2 * self._keys.shape[2], self.length + t))
        end = self.length + t
        self._keys[:, :, self.length : end] = keys
        self._values[:, :, self.length : end] = values
        self._positions[:, self.length : end] = positions
        self.length = end
        return self.keys, self.values, self.positions

    def key_positions_after(self, positions: torch.Tensor) -> torch.Tensor:
        """``(b, s + t)`` positions of the keys attention will see once ``positions (b, t)`` are appended.

        For masks that depend on positions (a sliding window), computed
        before ``append`` writes anything.
        """
        if self._positions is None:
            return positions
        if self.static_slot is not None:
            return self._positions.index_copy(1, self.static_slot, positions)
        return torch.cat([self.positions, positions], dim=1)

    def reorder(self, batch_indices: torch.Tensor) -> None:
        """Keep only (or reorder) the given batch rows, e.g. when some sequences finish."""
        if self._keys is not None:
            self._keys = self._keys[batch_indices]
            self._values = self._values[batch_indices]
            self._positions = self._positions[batch_indices]

    def clear(self) -> None:
        """Forget every cached token but keep the buffers, to fill them again."""
        self.length = 0
        self.static_slot = None

    # ----- static mode, for compiled decoding ------------------------------------------------

    def make_static(self, slot: torch.Tensor) -> None:
        """From now on, one-token steps write at slot ``slot`` (a ``(1,)`` long tensor the caller
        moves forward) and attention sees all ``capacity`` slots.

        Every step then has the same shapes and reads no Python counter, so
        ``torch.compile`` (and CUDA graphs) can capture it once and replay it.
        """
        if self.capacity is None or self._keys is None or self._keys.shape[2] != self.capacity:
            raise ValueError("make_static needs a cache with a fixed capacity that has been filled "
                             "once (run the prompt through it first)")
        self.static_slot = slot
        for buffer in (self._keys, self._values, self._positions):
            # Tell torch.compile these buffers live at a fixed address and are written in place.
            torch._dynamo.mark_static_address(buffer)

    def _append_static(self, keys, values, positions):
        if keys.shape[2] != 1:
            raise ValueError(f"a static KV cache takes one token per step, got {keys.shape[2]}")
        self._keys.index_copy_(2, self.static_slot, keys)
        self._values.index_copy_(2, self.static_slot, values)
        self._positions.index_copy_(1, self.static_slot, positions)
        return self._keys, self._values, self._positions

    # ----- buffers and checks ----------------------------------------------------------------

    def _allocate(self, keys: torch.Tensor, slots: int) -> None:
        b, h, _, d = keys.shape
        self._keys = keys.new_zeros(b, h, slots, d)
        self._values = keys.new_zeros(b, h, slots, d)
        self._positions = torch.zeros(b, slots, dtype=torch.long, device=keys.device)

    def _grow(self, slots: int) -> None:
        old = self._keys, self._values, self._positions
        self._allocate(old[0], slots)
        self._keys[:, :, : self.length] = old[0][:, :, : self.length]
        self._values[:, :, : self.length] = old[1][:, :, : self.length]
        self._positions[:, : self.length] = old[2][:, : self.length]

    def _fits(self, keys: torch.Tensor) -> bool:
        b, h, _, d = self._keys.shape
        return ((keys.shape[0], keys.shape[1], keys.shape[3]) == (b, h, d)
                and keys.dtype == self._keys.dtype and keys.device == self._keys.device)

    def _check(self, keys: torch.Tensor, values: torch.Tensor, positions: torch.Tensor) -> None:
        """The new keys must fit what is cached: same batch, heads, head size, dtype, device."""
        if keys.dim() != 4 or values.shape != keys.shape:
            raise ValueError(f"keys and values must both be (batch, heads, tokens, head_size), got "
                             f"{tuple(keys.shape)} and {tuple(values.shape)}")
        if positions.shape != (keys.shape[0], keys.shape[2]):
            raise ValueError(f"positions must be (batch, tokens) = {(keys.shape[0], keys.shape[2])}, "
                             f"got {tuple(positions.shape)}")
        if self._keys is None:
            return
        # (static_slot first: under torch.compile, reading the changing length would force recompiles)
        if self.static_slot is None and self.length == 0:
            if not self._fits(keys):
                self._keys = self._values = self._positions = None  # an emptied cache takes new shapes
            return
        b, h, _, d = self._keys.shape
        nb, nh, _, nd = keys.shape
        if nb != b:
            raise ValueError(
                f"this KV cache holds a batch of {b} sequences but the new keys have batch {nb}: a cache "
                f"belongs to one generation; start a new one with new_cache(n_layers) (or cache.reorder() "
                f"to keep some rows)"
            )
        if (nh, nd) != (h, d):
            raise ValueError(
                f"this KV cache holds {h} heads of size {d} but the new keys have {nh} heads of size {nd}: "
                f"it was filled by a different model; make a new one with new_cache(model.config.n_layers)"
            )
        if keys.dtype != self._keys.dtype or keys.device != self._keys.device:
            raise ValueError(
                f"this KV cache holds {self._keys.dtype} on {self._keys.device} but the new keys are "
                f"{keys.dtype} on {keys.device}; make a new cache after moving or casting the model"
            )


def check_cache(cache: object, layers: Sequence[object]) -> None:
    """``cache`` must be one ``KVCache`` per layer, each empty or filled by that same layer.

    Each ``layers[i]`` claims ``cache[i]`` (see ``KVCache.claim``). Compiled code
    skips the claim: the compiled step of ``generate`` reuses its own cache, which
    its eager prompt pass has claimed already.
    """
    if not isinstance(cache, (list, tuple)):
        raise TypeError(f"cache must be a list of KVCache, one per layer (new_cache(model.config.n_layers)), "
                        f"got {type(cache).__name__}")
    if len(cache) != len(layers):
        raise ValueError(f"cache has {len(cache)} layers, the model has {len(layers)}; make one with "
                         f"new_cache(model.config.n_layers)")
    for i, (layer_cache, layer) in enumerate(zip(cache, layers)):
        if not isinstance(layer_cache, KVCache):
            raise TypeError(f"cache[{i}] is {type(layer_cache).__name__}, not a KVCache; make the cache with "
                            f"new_cache(model.config.n_layers)")
        if not torch.compiler.is_compiling():
            layer_cache.claim(layer, f"cache[{i}]")


def new_cache(n_layers: int, capacity: int | None = None) -> list[KVCache]:
    """One empty ``KVCache`` per layer: what ``model(..., cache=...)`` fills in.

    ``capacity`` (prompt + new tokens) fixes each layer's buffer size; ``None`` lets them grow.
    """
    if not isinstance(n_layers, int) or isinstance(n_layers, bool) or n_layers < 1:
        raise ValueError(f"n_layers must be a positive integer (model.config.n_layers), got {n_layers!r}")
    return [KVCache(capacity) for _ in range(n_layers)]
