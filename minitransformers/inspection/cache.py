"""``run_with_cache``: run a model once and keep every named activation it computed.

    output, cache = model.run_with_cache(input_ids, output_attentions=False)
    cache.names()                              # what it holds, in forward order
    cache["blocks.0.attention.hook_weights"]   # (b h t s), by short name ...
    cache["weights", 0]                        # ... or by (kind, layer)
    cache.attention_weights(0)                 # the same; no layer: all layers, a tuple
    cache.stack("resid_post")                  # (l b t c), one kind from every layer

The names are listed (with shapes) in ``inspection/names.py``. Recording
uses torch forward hooks on the model's ``HookPoint`` modules; they are
removed when the run ends, also when it fails. Because a hook on the
attention scores or weights makes an ``attn_impl="sdpa"`` model take the
hand-written path, the weights are cached whatever the configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import torch
from torch import nn

from .hooks import hooks
from .names import KIND_PATHS, UnknownNameError, body_prefix, hook_points, kind_name, resolve

NamesFilter = str | Iterable[str] | Callable[[str], bool] | None


class ActivationCache(Mapping):
    """Activations by short name (``blocks.0.attention.hook_weights``), in forward order.

    A read-only dict: ``names()``, ``keys()``, ``items()``, ``len()``, ``in``.
    Keys may also be full module names (``gpt.blocks.0...``) or
    ``(kind, layer)`` pairs with kinds from ``KIND_PATHS`` (``"q"``,
    ``"weights"``, ``"resid_post"``, ...) or ``"embeddings"``.
    """

    def __init__(
        self, activations: dict[str, torch.Tensor], n_layers: int, prefix: str = ""
    ) -> None:
        self._activations = dict(activations)
        self.n_layers = n_layers
        self._prefix = prefix  # the body's prefix in full names ("gpt."), accepted and stripped

    def names(self) -> list[str]:
        """Every name held, in the order the forward pass produced them."""
        return list(self._activations)

    def __getitem__(self, key) -> torch.Tensor:
        return self._activations[resolve(key, self.names(), self._prefix, "cached activation")]

    def __contains__(self, key) -> bool:
        try:
            resolve(key, self.names(), self._prefix)
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._activations)

    def __len__(self) -> int:
        return len(self._activations)

    def stack(self, kind: str) -> torch.Tensor:
        """One kind from every layer, stacked on a new first dimension: e.g. ``(l b h t s)``."""
        if kind not in KIND_PATHS:
            raise UnknownNameError(
                f"unknown activation kind {kind!r}; choose one of {list(KIND_PATHS)}"
            )
        return torch.stack([self[kind, layer] for layer in range(self.n_layers)])

    def attention_weights(
        self, layer: int | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """Layer ``layer``'s attention weights ``(b h t s)``; all layers as a tuple when ``None``
        (the same form as a model output's ``attentions``)."""
        if layer is not None:
            return self["weights", layer]
        return tuple(self["weights", i] for i in range(self.n_layers))

    def residual_stream(self) -> torch.Tensor:
        """``(l + 1, b, t, c)``: the stream entering each block, then leaving the last one."""
        entering = [self["resid_pre", layer] for layer in range(self.n_layers)]
        return torch.stack([*entering, self["resid_post", self.n_layers - 1]])

    def to(self, device: torch.device | str) -> ActivationCache:
        """A copy with every tensor moved to ``device``."""
        moved = {name: value.to(device) for name, value in self._activations.items()}
        return ActivationCache(moved, self.n_layers, self._prefix)

    def __repr__(self) -> str:
        lines = [f"ActivationCache with {len(self)} activations from {self.n_layers} layers:"]
        lines += [f"  {name:<42} {tuple(value.shape)}" for name, value in self._activations.items()]
        return "\n".join(lines)


def hook_names(model: nn.Module) -> list[str]:
    """The short name of every activation ``model`` exposes, in forward order."""
    return list(hook_points(model))


def _selected(names: list[str], names_filter: NamesFilter) -> list[str]:
    """The names ``names_filter`` keeps: None = all, a name, a list of names, or a predicate."""
    if names_filter is None:
        return names
    if callable(names_filter):
        return [name for name in names if names_filter(name)]
    wanted = [names_filter] if isinstance(names_filter, str) else list(names_filter)
    return [resolve(key, names, what="activation") for key in wanted]


def run_with_cache(
    model: nn.Module,
    *args,
    names_filter: NamesFilter = None,
    detach: bool = True,
    device: torch.device | str | None = None,
    **kwargs,
) -> tuple[object, ActivationCache]:
    """``model(*args, **kwargs)``, plus an ``ActivationCache`` of its named activations.

    ``names_filter`` keeps a subset: one name, a list of names (short,
    full or ``(kind, layer)``), or a function ``name -> bool`` such as
    ``lambda name: name.endswith("hook_weights")``. Activations are detached
    from the autograd graph unless ``detach=False``, and moved to ``device``
    when one is given (``"cpu"`` frees accelerator memory).
    """
    prefix = body_prefix(model)
    names = _selected(hook_names(model), names_filter)
    activations: dict[str, torch.Tensor] = {}

    def record(activation: torch.Tensor, name: str) -> None:
        kept = activation.detach() if detach else activation
        activations[name] = kept.to(device) if device is not None else kept

    with hooks(model, {name: record for name in names}):
        output = model(*args, **kwargs)
    has_blocks = bool(prefix) or hasattr(model, "blocks")
    n_layers = len(model.get_submodule(prefix + "blocks")) if has_blocks else 0
    return output, ActivationCache(activations, n_layers, prefix)


__all__ = ["ActivationCache", "hook_names", "kind_name", "run_with_cache"]
