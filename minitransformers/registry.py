"""Registries: the names a config can give its components, and what they stand for.

The standard parts (``MultiHeadAttention``, ``FeedForward``, ``nn.LayerNorm``,
the two blocks, learned positions) are built directly by the layers that
use them; a registry is consulted only when a config names something else,
and when a config is saved or loaded (a config file stores names, not
classes). A student adds a part without touching the library::

    from minitransformers import NORMS

    @NORMS.register("my_norm")
    class MyNorm(nn.Module):
        def __init__(self, hidden_size: int, eps: float): ...

    config = GPTConfig.preset("tiny", norm="my_norm")

A config may also hold the class (or any factory) itself instead of a name.
The library's own names (the examples in ``components/`` included) are
listed below as ``"module:attribute"`` and imported the first time they are
asked for, so nothing depends on which modules happen to be imported.

This file also holds the other names that configs and layers share:
attention implementations and activation functions.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from torch import nn

# Attention implementations: the hand-written maths, or torch's fused kernel.
ATTENTION_IMPLS = ("manual", "sdpa")
# Activation functions by name; the aliases are other spellings found in Hugging Face config files.
ACTIVATION_NAMES = ("gelu", "gelu_tanh", "relu", "silu")
ACTIVATION_ALIASES = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu_fast": "gelu_tanh"}


def check_activation(name: str) -> str:
    """The canonical name of activation ``name``; a ValueError listing the choices if unknown."""
    canonical = ACTIVATION_ALIASES.get(name, name) if isinstance(name, str) else name
    if canonical not in ACTIVATION_NAMES:
        choices = sorted(ACTIVATION_NAMES) + sorted(ACTIVATION_ALIASES)
        raise ValueError(f"unknown activation {name!r}; choose one of {choices}")
    return canonical


class Registry:
    """A named table of component factories of one kind (attention, norm, ...)."""

    def __init__(self, kind: str, builtin: dict[str, str] | None = None) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., Any]] = {}
        self._builtin = dict(builtin or {})  # name -> "module:attribute", imported on first use

    def register(self, name: str, factory: Callable[..., Any] | None = None):
        """Register ``factory`` under ``name``; usable as ``@REGISTRY.register("name")``."""

        def add(f: Callable[..., Any]) -> Callable[..., Any]:
            if not isinstance(name, str) or not name:
                raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
            self._factories[name] = f
            return f

        return add if factory is None else add(factory)

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted({*self._factories, *self._builtin})

    def _load_builtin(self, name: str) -> Callable[..., Any]:
        module, attribute = self._builtin[name].split(":")
        factory = getattr(importlib.import_module(module), attribute)
        self._factories.setdefault(name, factory)
        return self._factories[name]

    def resolve(self, choice: str | Callable[..., Any]) -> Callable[..., Any]:
        """Turn a name (or a class/factory given directly) into a factory."""
        if callable(choice):
            return choice
        if choice in self._factories:
            return self._factories[choice]
        if choice in self._builtin:
            return self._load_builtin(choice)
        raise ValueError(
            f"unknown {self.kind} {choice!r}; choose one of {self.names()} "
            f"or register your own with @{self.kind.upper()}S.register(name)"
        )

    def build(self, choice: str | Callable[..., Any], **kwargs: Any) -> Any:
        """Resolve ``choice`` and call it with ``kwargs``, explaining a signature mismatch."""
        factory = self.resolve(choice)
        try:
            return factory(**kwargs)
        except TypeError as error:
            raise TypeError(
                f"could not build {self.kind} {choice!r} with arguments {sorted(kwargs)}: {error}. "
                f"A {self.kind} component must accept these keyword arguments."
            ) from error

    def name_of(self, factory: Callable[..., Any]) -> str | None:
        """The name ``factory`` is registered under, or None."""
        for name in self._builtin:
            if name not in self._factories:
                self._load_builtin(name)
        return next((name for name, f in self._factories.items() if f is factory), None)

    def __contains__(self, name: str) -> bool:
        return name in self._factories or name in self._builtin

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


_PKG = "minitransformers"
ATTENTIONS = Registry("attention", {
    "multi_head": f"{_PKG}.attention:MultiHeadAttention",
    "grouped_query": f"{_PKG}.components.grouped_query:GroupedQueryAttention",
    "multi_query": f"{_PKG}.components.grouped_query:multi_query",
    "sliding_window": f"{_PKG}.components.sliding_window:SlidingWindowAttention",
})
POSITIONALS = Registry("positional", {
    "learned": f"{_PKG}.positional:LearnedPositions",
    "none": f"{_PKG}.positional:NoPositions",
    "sinusoidal": f"{_PKG}.components.sinusoidal:SinusoidalPositions",
    "rotary": f"{_PKG}.components.rotary:RotaryPositions",
    "alibi": f"{_PKG}.components.alibi:ALiBiPositions",
})
NORMS = Registry("norm", {
    "layernorm": f"{_PKG}.registry:layer_norm",
    "rmsnorm": f"{_PKG}.components.rmsnorm:RMSNorm",
})
FEEDFORWARDS = Registry("feedforward", {
    "mlp": f"{_PKG}.feedforward:FeedForward",
    "swiglu": f"{_PKG}.components.swiglu:SwiGLUFeedForward",
    "geglu": f"{_PKG}.components.geglu:GeGLUFeedForward",
})
BLOCKS = Registry("block", {
    "encoder": f"{_PKG}.blocks:EncoderBlock",
    "decoder": f"{_PKG}.blocks:DecoderBlock",
    "pre_ln_encoder": f"{_PKG}.blocks:PreLNEncoderBlock",
})

# Config field -> the registry that resolves it.
REGISTRIES = {
    "attention": ATTENTIONS,
    "positional": POSITIONALS,
    "norm": NORMS,
    "feedforward": FEEDFORWARDS,
    "block": BLOCKS,
}


def layer_norm(hidden_size: int, eps: float = 1e-12) -> nn.Module:
    """The standard norm, ``"layernorm"``: torch's ``nn.LayerNorm`` is exactly the textbook formula.

    It rescales each token's vector to zero mean and unit variance, then
    applies a learned scale and shift.
    """
    return nn.LayerNorm(hidden_size, eps=eps)


def build_norm(config) -> nn.Module:
    """The norm ``config.norm`` names, over the model width ``c``: usually ``nn.LayerNorm``.

    ``config.bias=False`` drops LayerNorm's shift; other norms (RMSNorm) have none to drop.
    """
    if config.norm == "layernorm":
        return nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps, bias=config.bias)
    return NORMS.build(config.norm, hidden_size=config.hidden_size, eps=config.layer_norm_eps)
