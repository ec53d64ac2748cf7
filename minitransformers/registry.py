"""Registries: the place where components are looked up by name.

A config names its parts (``attention="multi_head"``, ``norm="layernorm"``);
the model asks the matching registry to build them. A student adds a part
without touching the library::

    from minitransformers import NORMS

    @NORMS.register("my_norm")
    class MyNorm(nn.Module):
        def __init__(self, hidden_size: int, eps: float): ...

    config = GPTConfig.preset("tiny", norm="my_norm")

A config may also hold the class (or any factory) itself instead of a name.
"""

from __future__ import annotations

from typing import Any, Callable


class Registry:
    """A named table of component factories of one kind (attention, norm, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., Any]] = {}

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
        return sorted(self._factories)

    def resolve(self, choice: str | Callable[..., Any]) -> Callable[..., Any]:
        """Turn a name (or a class/factory given directly) into a factory."""
        if callable(choice):
            return choice
        if choice not in self._factories:
            raise ValueError(
                f"unknown {self.kind} {choice!r}; choose one of {self.names()} "
                f"or register your own with @{self.kind.upper()}S.register(name)"
            )
        return self._factories[choice]

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
        return next((name for name, f in self._factories.items() if f is factory), None)

    def __contains__(self, name: str) -> bool:
        return name in self._factories

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


ATTENTIONS = Registry("attention")
POSITIONALS = Registry("positional")
NORMS = Registry("norm")
FEEDFORWARDS = Registry("feedforward")
BLOCKS = Registry("block")

# Config field -> the registry that resolves it.
REGISTRIES = {
    "attention": ATTENTIONS,
    "positional": POSITIONALS,
    "norm": NORMS,
    "feedforward": FEEDFORWARDS,
    "block": BLOCKS,
}
