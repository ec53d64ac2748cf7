"""Compiled decoding: the one-token step captured once by ``torch.compile`` and replayed.

After the prompt, every generation step does the same thing on tensors of
the same shapes: one token in, one row of logits out. On a GPU such a step
of a small model is bound by *launching* its few hundred kernels, not by
running them. ``torch.compile(mode="reduce-overhead")`` fuses the kernels
and, on CUDA, records the whole step as a CUDA graph that is replayed with
one launch.

Capture needs shapes that never change and no Python number that changes
from step to step. So the cache is **static** (``KVCache.make_static``):
attention always reads all ``capacity`` slots, an attention mask of width
``capacity`` hides the empty ones, and the slot to write is a tensor moved
forward between steps, outside the captured code. The prompt itself runs
eagerly (its length varies from call to call).

The compiled step is kept per model and reused while batch size, capacity,
dtype and device stay the same, so a second ``generate`` call pays no
compilation.
"""

from __future__ import annotations

import weakref

import torch

from ..kv_cache import KVCache, new_cache

_DECODERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _decode_step(model, ids, attention_mask, positions, cache):
    """One token per row through the model: ``(b, 1)`` ids -> ``(b, v)`` logits."""
    return model(ids, attention_mask=attention_mask, position_ids=positions, cache=cache,
                 only_last_position=True).logits[:, -1]


class StaticDecoder:
    """A static cache of ``capacity`` slots for ``batch`` rows, and the compiled step that fills it."""

    def __init__(self, model, batch: int, capacity: int, device: torch.device) -> None:
        self.key = (batch, capacity, device, next(model.parameters()).dtype)
        self.capacity = capacity
        self.cache: list[KVCache] = new_cache(model.config.n_layers, capacity=capacity)
        self.slot = torch.zeros(1, dtype=torch.long, device=device)  # where the next token is written
        self.mask = torch.zeros(batch, capacity, dtype=torch.long, device=device)
        self.step_function = torch.compile(_decode_step, mode="reduce-overhead", dynamic=False)

    def prefill(self, model, ids, attention_mask, positions) -> torch.Tensor:
        """Run ``ids (b, t)`` eagerly into the emptied cache; return the last position's logits."""
        for layer in self.cache:
            layer.clear()
        logits = model(ids, attention_mask=attention_mask, position_ids=positions, cache=self.cache,
                       only_last_position=True).logits[:, -1]
        for layer in self.cache:
            layer.make_static(self.slot)
        return logits

    def step(self, model, ids, attention_mask, positions) -> torch.Tensor:
        """One compiled step: ``ids (b, 1)`` and ``attention_mask (b, s + 1)`` over cached + new tokens."""
        filled = attention_mask.shape[1]
        self.mask.zero_()
        self.mask[:, :filled] = attention_mask
        self.slot.fill_(filled - 1)
        logits = self.step_function(model, ids, self.mask, positions, self.cache)
        for layer in self.cache:
            layer.length = filled
        # A CUDA graph's outputs are overwritten by its next replay: keep our own copy.
        return logits.clone()


def static_decoder(model, batch: int, capacity: int, device: torch.device) -> StaticDecoder:
    """The decoder kept for ``model`` at these shapes, or a new one (which compiles on first use)."""
    key = (batch, capacity, device, next(model.parameters()).dtype)
    decoder = _DECODERS.get(model)
    if decoder is None or decoder.key != key:
        decoder = StaticDecoder(model, batch, capacity, device)
        _DECODERS[model] = decoder
    return decoder
