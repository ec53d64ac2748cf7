"""Names of the activations a model exposes, and how to turn what a user typed into one.

Every ``HookPoint`` in a model has a name from ``model.named_modules()``.
With a task head around the model body the full name carries the body's
attribute as a prefix (``gpt.blocks.0.attention.hook_weights`` in a
``GPTLMHeadModel``). We use the *short* name, relative to the body, so the
same name works for ``GPTModel`` and ``GPTLMHeadModel``:

==========================================  ======================  ============================
short name                                  shape                   what it is
==========================================  ======================  ============================
``hook_embeddings``                         ``(b t c)``             input to block 0
``blocks.L.hook_resid_pre``                 ``(b t c)``             residual stream entering L
``blocks.L.attention.hook_q``               ``(b h t d)``           queries, split into heads
``blocks.L.attention.hook_k`` / ``hook_v``  ``(b h s d)``           keys / values
``blocks.L.attention.hook_scores``          ``(b h t s)``           ``q.k / sqrt(d)``
``blocks.L.attention.hook_masked_scores``   ``(b h t s)``           scores after the mask
``blocks.L.attention.hook_weights``         ``(b h t s)``           softmax: rows sum to 1
``blocks.L.attention.hook_head_outputs``    ``(b h t d)``           each head's mixed values
``blocks.L.hook_attention_out``             ``(b t c)``             what attention adds
``blocks.L.hook_resid_mid``                 ``(b t c)``             after the attention residual
``blocks.L.feedforward.hook_hidden``        ``(b t intermediate)``  after the activation
``blocks.L.hook_feedforward_out``           ``(b t c)``             what the feed-forward adds
``blocks.L.hook_resid_post``                ``(b t c)``             residual stream leaving L
==========================================  ======================  ============================

Full names and the short ``(kind, layer)`` pairs below are accepted too.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import re

from torch import nn

from ..hook_points import HookPoint
from ..body import find_body

class UnknownNameError(KeyError):
    """A name that is not in the model (or the cache); the message lists close matches."""

    def __str__(self) -> str:  # KeyError would print the message inside quotes
        return str(self.args[0]) if self.args else ""


_BLOCK_NAME = re.compile(r"blocks\.(\d+)\.(.+)")

# ("weights", 2) -> "blocks.2.attention.hook_weights": the last part of a name, without "hook_".
KIND_PATHS = {
    "resid_pre": "hook_resid_pre",
    "q": "attention.hook_q",
    "k": "attention.hook_k",
    "v": "attention.hook_v",
    "scores": "attention.hook_scores",
    "masked_scores": "attention.hook_masked_scores",
    "weights": "attention.hook_weights",
    "head_outputs": "attention.hook_head_outputs",
    "attention_out": "hook_attention_out",
    "resid_mid": "hook_resid_mid",
    "hidden": "feedforward.hook_hidden",
    "feedforward_out": "hook_feedforward_out",
    "resid_post": "hook_resid_post",
}


def body_prefix(model: nn.Module) -> str:
    """Where the blocks live: ``"gpt."`` in a ``GPTLMHeadModel``, ``""`` in a ``GPTModel``."""
    return find_body(model)[1]


def hook_points(model: nn.Module) -> dict[str, HookPoint]:
    """Every hook point of ``model`` by short name, in the order the forward pass meets them."""
    prefix = body_prefix(model)
    points = {}
    for name, module in model.named_modules():
        if isinstance(module, HookPoint):
            points[name[len(prefix):] if name.startswith(prefix) else name] = module
    return dict(sorted(points.items(), key=_forward_order(list(points))))


def _forward_order(names: list[str]):
    """Sort key: layer by layer, and inside a block the order of ``KIND_PATHS``.

    Registration order is not forward order (a block registers its attention
    module, with ``hook_q``, before its own ``hook_resid_pre``). Hooks outside
    the blocks stay before or after them, where they were registered.
    """
    in_block = [i for i, name in enumerate(names) if _BLOCK_NAME.match(name)]
    first_block = in_block[0] if in_block else len(names)
    within = list(KIND_PATHS.values())

    def key(item):
        name = item[0]
        index = names.index(name)
        found = _BLOCK_NAME.match(name)
        if found is None:
            return (-1 if index < first_block else math.inf, 0, index)
        layer, rest = int(found[1]), found[2]
        return (layer, within.index(rest) if rest in within else len(within), index)

    return key


def kind_name(kind: str, layer: int | None = None) -> str:
    """``("weights", 0)`` -> ``"blocks.0.attention.hook_weights"``; ``"embeddings"`` -> its hook."""
    if kind == "embeddings" and layer is None:
        return "hook_embeddings"
    if kind not in KIND_PATHS:
        kinds = ["embeddings", *KIND_PATHS]
        raise UnknownNameError(f"unknown activation kind {kind!r}; choose one of {kinds}")
    if layer is None:
        raise UnknownNameError(
            f"{kind!r} exists in every layer: ask for (kind, layer), e.g. ({kind!r}, 0)"
        )
    return f"blocks.{layer}.{KIND_PATHS[kind]}"


def resolve(key, known: list[str], prefix: str = "", what: str = "activation") -> str:
    """The short name meant by ``key``: a short name, a full name or ``(kind, layer)``."""
    if isinstance(key, tuple):
        name = kind_name(*key)
    elif isinstance(key, str):
        name = key[len(prefix):] if prefix and key.startswith(prefix) else key
        if name == "embeddings" or name in KIND_PATHS:
            name = kind_name(name)  # a bare kind names no single tensor: explains what to ask for
    else:
        raise UnknownNameError(f"{what} names are strings or (kind, layer) tuples, got {key!r}")
    if name not in known:
        raise UnknownNameError(unknown_message(name, known, what))
    return name


def match(pattern: str, known: list[str], prefix: str = "", what: str = "hook") -> list[str]:
    """Names matching ``pattern``: a name, or a glob like ``blocks.*.attention.hook_weights``."""
    if prefix and pattern.startswith(prefix):
        pattern = pattern[len(prefix):]
    if any(char in pattern for char in "*?["):
        found = fnmatch.filter(known, pattern)
    else:
        found = [pattern] if pattern in known else []
    if not found:
        raise UnknownNameError(unknown_message(pattern, known, what))
    return found


def unknown_message(name: str, known: list[str], what: str) -> str:
    """What was asked, what is close, and where to look for the full list."""
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    hint = f"did you mean one of {close}?" if close else f"known names start with {known[:4]}..."
    listing = "cache.names()" if what.startswith("cached") else "inspection.hook_names(model)"
    return f"no {what} named {name!r}; {hint} (list them all with {listing})"
