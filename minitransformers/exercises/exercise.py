"""What an exercise is: a statement, random inputs, the library's answer, and typical mistakes.

Each ``Exercise`` names the function the student writes, gives its
statement (shown by ``describe``), a generator of random inputs (sizes
change from trial to trial, so hard-coded shapes fail), the reference
(which *is* the library's own code) and the typical mistakes, each as the
wrong output it produces, so that feedback can name it. Its hints live in
``hints.py``, all in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from einops import rearrange

from ..masks import causal_mask


@dataclass(frozen=True)
class Mistake:
    """A typical error: ``produce(*inputs)`` returns what a student making it would return."""

    name: str
    produce: Callable[..., Any]
    message: str


@dataclass(frozen=True)
class Exercise:
    name: str
    statement: str
    make_inputs: Callable[[torch.Generator, int], dict[str, Any]]  # (generator, trial) -> named inputs
    reference: Callable[..., Any]
    output_names: tuple[str, ...]
    mistakes: tuple[Mistake, ...] = field(default_factory=tuple)
    n_trials: int = 4


def randn(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=g)


# Sizes per trial: (b, h, t, s, d). t != s and odd sizes catch swapped or hard-coded dimensions.
SIZES = [(2, 3, 4, 4, 8), (1, 2, 3, 5, 16), (3, 4, 5, 2, 4), (2, 1, 6, 6, 2)]


def qkv_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, h, t, s, d = SIZES[trial % len(SIZES)]
    return {"q": randn(g, b, h, t, d), "k": randn(g, b, h, s, d), "v": randn(g, b, h, s, d)}


def mask_for(g: torch.Generator, trial: int, b: int, t: int, s: int) -> torch.Tensor:
    """Trial 0: causal; 1: padding; 2: random; 3: random with one query that may see nothing."""
    if trial % 4 == 0:
        return causal_mask(t, s) if s >= t else torch.ones(t, s, dtype=torch.bool)
    if trial % 4 == 1:
        lengths = torch.randint(1, s + 1, (b,), generator=g)
        return rearrange(torch.arange(s) < rearrange(lengths, "b -> b 1"), "b s -> b 1 1 s")
    mask = torch.rand(b, 1, t, s, generator=g) < 0.6
    mask[..., 0] = True  # every query sees at least one key ...
    if trial % 4 == 3:
        mask[0, 0, -1] = False  # ... except this one, whose weights must be all zero
    return mask


