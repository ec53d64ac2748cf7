"""``HookPoint``: a named spot in the forward pass where an activation can be read or replaced.

A hook point returns its input unchanged. Because it is an ``nn.Module``,
its place in ``model.named_modules()`` gives it a stable name such as
``blocks.0.attention.hook_weights``, and torch's forward hooks on it can
record the activation (``run_with_cache``) or return a replacement
(zero a head, patch in an activation from another input).

The layers only pass activations through their hook points while some hook
is attached somewhere (``if HookPoint.in_use:``). With none attached, which
is every training step, a hook point costs nothing: not even a function
call. On a first read of the layers, skip those ``if`` lines.
"""

from __future__ import annotations

import weakref

import torch
from torch import nn
from torch.nn.modules.module import _addindent


class HookPoint(nn.Module):
    """Identity module that marks an activation worth looking at.

    ``HookPoint.in_use`` counts the hooks attached to any hook point in the
    process; it only has to be exact when it falls back to 0.
    """

    in_use: int = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def register_forward_hook(self, hook, **kwargs) -> "_CountedHandle":
        return _CountedHandle(self, super().register_forward_hook(hook, **kwargs))

    def register_forward_pre_hook(self, hook, **kwargs) -> "_CountedHandle":
        return _CountedHandle(self, super().register_forward_pre_hook(hook, **kwargs))

    def has_hooks(self) -> bool:
        """True when a hook is attached to this hook point."""
        return bool(self._forward_hooks or self._forward_pre_hooks)


class _CountedHandle:
    """torch's hook handle, which also keeps ``HookPoint.in_use`` up to date."""

    def __init__(self, point: HookPoint, handle) -> None:
        self.handle, self.removed = handle, False
        HookPoint.in_use += 1
        # A hook never removed goes away with its hook point; so does its count.
        weakref.finalize(point, self._forget)

    def _forget(self) -> None:
        if not self.removed:
            self.removed = True
            HookPoint.in_use -= 1

    @property
    def id(self) -> int:
        return self.handle.id

    def remove(self) -> None:
        if not self.removed:
            self.removed = True
            HookPoint.in_use -= 1
            self.handle.remove()

    def __enter__(self) -> "_CountedHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def hook_points(module: nn.Module) -> dict[str, HookPoint]:
    """Every hook point inside ``module``, by its full name (as in ``named_modules``)."""
    return {name: m for name, m in module.named_modules() if isinstance(m, HookPoint)}


def layers_repr(module: nn.Module) -> str:
    """``repr(module)`` as torch prints it, without the hook points (they are not layers)."""
    extra = module.extra_repr()
    lines = extra.split("\n") if extra else []
    children = [(name, child) for name, child in module.named_children() if not isinstance(child, HookPoint)]
    for name, child in children:
        lines.append(f"({name}): " + _addindent(layers_repr(child), 2))
    if not children:
        return f"{module._get_name()}({extra})"
    return module._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"
