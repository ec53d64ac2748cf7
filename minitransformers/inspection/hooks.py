"""Hooks: read or replace a named activation while the model runs.

    def zero_head_1(activation, name):        # (b h t d) at hook_head_outputs
        activation = activation.clone()
        activation[:, 1] = 0.0
        return activation                     # returned tensor replaces the activation

    with hooks(model, {"blocks.0.attention.hook_head_outputs": zero_head_1}):
        logits = model(input_ids).logits      # layer 0 without head 1

A hook is ``fn(activation, name)``. Returning ``None`` leaves the activation
as it was (for reading); returning a tensor of the same shape replaces it
(for interventions). Names are the short names of ``inspection/names.py``,
full module names, or globs (``"blocks.*.attention.hook_weights"``). The
hooks are removed when the ``with`` block ends, also when the forward pass
inside it raises, so an experiment that fails never leaves a model that
silently computes something else.

``zero_head`` and ``patch_from`` build the two most common interventions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import nn

from .names import body_prefix, hook_points, match

HookFn = Callable[[torch.Tensor, str], torch.Tensor | None]


def _as_list(fns: HookFn | list[HookFn]) -> list[HookFn]:
    return list(fns) if isinstance(fns, (list, tuple)) else [fns]


def _torch_hook(fn: HookFn, name: str):
    """Adapt ``fn(activation, name)`` to torch's ``hook(module, inputs, output)``."""

    def hook(module: nn.Module, inputs, output: torch.Tensor):
        replacement = fn(output, name)
        if replacement is None:
            return None
        if not isinstance(replacement, torch.Tensor) or replacement.shape != output.shape:
            is_tensor = isinstance(replacement, torch.Tensor)
            found = tuple(replacement.shape) if is_tensor else type(replacement).__name__
            raise ValueError(
                f"hook {getattr(fn, '__name__', fn)!r} on {name} returned {found}, "
                f"expected a tensor of "
                f"shape {tuple(output.shape)}; return None to only read the activation"
            )
        return replacement

    return hook


@contextmanager
def hooks(model: nn.Module, fns: Mapping[str, HookFn | list[HookFn]]) -> Iterator[nn.Module]:
    """Within the ``with`` block, call ``fns[name](activation, name)`` at each named activation.

    ``fns`` maps a name (or glob) to a function or a list of functions,
    applied in order. Unknown names raise a ``KeyError`` listing close
    matches before anything is registered.
    """
    points = hook_points(model)
    known, prefix = list(points), body_prefix(model)
    plan = [(name, fn) for pattern, given in fns.items()
            for name in match(pattern, known, prefix) for fn in _as_list(given)]
    handles = []
    try:
        for name, fn in plan:
            handles.append(points[name].register_forward_hook(_torch_hook(fn, name)))
        yield model
    finally:
        for handle in handles:
            handle.remove()


model_hooks = hooks  # the same context manager, under a name that reads well after an import *


def zero_head(*heads: int) -> HookFn:
    """A hook for ``blocks.L.attention.hook_head_outputs`` ``(b h t d)`` that silences ``heads``.

    The output projection then mixes only the other heads: the same as
    zeroing those heads' columns of ``attention.output.weight``.
    """

    def zero(activation: torch.Tensor, name: str) -> torch.Tensor:
        n_heads = activation.shape[1]
        bad = [head for head in heads if not -n_heads <= head < n_heads]
        if bad:
            raise IndexError(
                f"zero_head: heads {bad} do not exist at {name}, which has {n_heads} heads"
            )
        activation = activation.clone()  # never edit the tensor another hook or the cache may hold
        activation[:, list(heads)] = 0.0
        return activation

    zero.__name__ = f"zero_head{heads}"
    return zero


def patch_from(
    cache: Mapping[str, torch.Tensor], positions: slice | list[int] | None = None
) -> HookFn:
    """A hook that replaces the activation with the one ``cache`` recorded under the same name.

    Activation patching: run a "clean" input with ``run_with_cache``, then
    run a "corrupted" input with this hook to see how much of the clean
    behaviour one activation carries. ``positions`` restricts the patch to
    some token positions (the ``t`` axis, second to last for ``(b h t d)``,
    second for ``(b t c)``).
    """

    def patch(activation: torch.Tensor, name: str) -> torch.Tensor:
        source = cache[name].to(activation.device, activation.dtype)
        if source.shape != activation.shape:
            raise ValueError(f"patch_from: cached {name} has shape {tuple(source.shape)}, "
                             f"the current "
                             f"run has {tuple(activation.shape)}; patch inputs of the same shape")
        if positions is None:
            return source
        time_axis = 2 if activation.dim() == 4 else 1
        index = [slice(None)] * activation.dim()
        index[time_axis] = positions
        patched = activation.clone()
        patched[tuple(index)] = source[tuple(index)]
        return patched

    patch.__name__ = "patch_from"
    return patch
