"""What a student's function was given: copies that share nothing, and what the function changed in them.

Each trial hands the reference and the student their own copies of the
inputs, so that an in-place edit by one cannot reach the other. The copies
are deep: a tensor is cloned, a dict, list or tuple is rebuilt around copies
of its items, and a module or a config is copied whole (``copy.deepcopy``).

After the student's function returns, its copy is compared with the
original, everything it could reach: every tensor, deep inside dicts and
lists, every parameter and buffer of a module (and its plain settings, such
as a flag or the train/eval mode), every field of a config. A change is
named the way the student would write it: ``weights['gpt.final_norm.weight']``,
``final_norm.weight``, ``config.n_heads``. A container that gained or lost
an entry is named itself: ``weights``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from .feedback import plain

_SHOWN = 3  # names listed before "and N more": a dict of 80 zeroed tensors gets one line, not 80


def cloned(inputs: dict[str, Any]) -> list[Any]:
    """The inputs' values, in order, as deep copies that share no tensor, container or module with them."""
    return [_copy(value) for value in inputs.values()]


def _copy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, dict):
        return type(value)((key, _copy(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(_copy(item) for item in value)
    return copy.deepcopy(value)  # a module, a config, anything else; int, float, str come back as themselves


def inputs_changed(originals: dict[str, Any], given: list[Any]) -> str | None:
    """``"`parts[1]['b']` and `norm.bias`"``: what the student's function changed in its copies; None if nothing."""
    changed = [path for (name, original), copy_ in zip(originals.items(), given)
               for path in _differences(original, copy_, name)]
    if not changed:
        return None
    shown = [f"`{path}`" for path in changed[:_SHOWN]]
    if len(changed) > _SHOWN:
        return f"{', '.join(shown)} and {len(changed) - _SHOWN} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _differences(original: Any, given: Any, path: str) -> Iterator[str]:
    """The paths at which ``given`` differs from ``original``, outermost container first."""
    if isinstance(original, torch.Tensor):
        if not _same_tensor(original, given):
            yield path
    elif isinstance(original, dict):
        if not isinstance(given, dict) or list(given) != list(original):  # an entry added, removed or reordered
            yield path
            return
        for key, item in original.items():
            yield from _differences(item, given[key], f"{path}[{key!r}]")
    elif isinstance(original, (list, tuple)):
        if type(given) is not type(original) or len(given) != len(original):
            yield path
            return
        for index, (item, other) in enumerate(zip(original, given)):
            yield from _differences(item, other, f"{path}[{index}]")
    elif isinstance(original, nn.Module):
        yield from _module_differences(original, given, path)
    elif dataclasses.is_dataclass(original) and not isinstance(original, type):
        if type(given) is not type(original):
            yield path
            return
        for field in dataclasses.fields(original):
            yield from _differences(getattr(original, field.name), getattr(given, field.name, _MISSING),
                                    f"{path}.{field.name}")
    elif not _same_value(original, given):
        yield path


_MISSING = object()


def _module_differences(original: nn.Module, given: Any, path: str) -> Iterator[str]:
    """Parameters and buffers by name (``final_norm.weight``), then each sub-module's plain settings."""
    if type(given) is not type(original):
        yield path
        return
    want, have = original.state_dict(keep_vars=True), given.state_dict(keep_vars=True)
    if list(want) != list(have):  # a parameter or sub-module added or removed
        yield path
        return
    for key, tensor in want.items():
        if not _same_tensor(tensor, have[key]):
            yield f"{path}.{key}"
    modules = dict(given.named_modules())
    for name, module in original.named_modules():
        other = modules.get(name)
        prefix = f"{path}.{name}" if name else path
        if type(other) is not type(module):
            yield prefix
            continue
        for attribute, value in _settings(module).items():  # a flag such as `causal`, and `training`
            if not _same_value(value, getattr(other, attribute, _MISSING)):
                yield f"{prefix}.{attribute}"


def _settings(module: nn.Module) -> dict[str, Any]:
    return {key: value for key, value in vars(module).items()
            if not key.startswith("_") and isinstance(value, (bool, int, float, str, type(None)))}


def _same_tensor(original: torch.Tensor, given: Any) -> bool:
    if not isinstance(given, torch.Tensor):
        return False
    original, given = plain(original), plain(given)  # a subclass gets no say in the comparison
    if given.shape != original.shape or given.dtype != original.dtype or given.device != original.device:
        return False
    if original.is_floating_point() or original.is_complex():
        return bool(torch.isclose(given.detach(), original.detach(), rtol=0.0, atol=0.0, equal_nan=True).all())
    return torch.equal(given, original)


def _same_value(original: Any, given: Any) -> bool:
    """Plain values by ``==``; an object without its own ``==`` (a copy is never ``is`` the original) by its fields."""
    if type(given) is not type(original):
        return False
    if isinstance(original, float) and original != original:
        return given != given  # NaN
    if type(original).__eq__ is object.__eq__:
        fields = getattr(original, "__dict__", None)
        return fields is None or not any(_differences(fields, vars(given), "_"))
    try:
        return bool(original == given)
    except Exception:  # noqa: BLE001  (an object that cannot compare itself: assume untouched)
        return True
