"""Patching metrics: logits ``(b t v)`` -> one number, and the checks on the number a metric gives.

    metric = logit_difference(target=him_id, foil=her_id)                # GPT: the next token
    metric = logit_difference(him_id, her_id, position=4)                # BERT: its [MASK] at 4

The ids are checked against the vocabulary and the position against the
input when the metric runs (``_checks.py``): plain indexing would wrap a
negative id to the end of the vocabulary without a word.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._checks import check_token_id, position_index, token_ids

Metric = Callable[[torch.Tensor], torch.Tensor | float]  # logits (b ...) -> one number


@dataclass(frozen=True, eq=False)
class LogitDifference:
    """``logits[:, position, target] - logits[:, position, foil]``, averaged over the batch.

    ``target`` / ``foil``: one token id, or one per input ``(b)``; without
    ``foil`` the target's logit. ``position``: GPT's ``-1`` scores the next
    token; for BERT pass the ``[MASK]`` position.
    """

    target: int | torch.Tensor
    foil: int | torch.Tensor | None = None
    position: int = -1

    def __post_init__(self) -> None:
        check_token_id(self.target, "target")
        if self.foil is not None:
            check_token_id(self.foil, "foil")
        if isinstance(self.position, bool) or not isinstance(self.position, int):
            raise TypeError(f"position must be an int (a token position), got "
                            f"{type(self.position).__name__} {self.position!r}")

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        if not isinstance(logits, torch.Tensor) or logits.dim() != 3:
            found = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise ValueError(f"logit_difference scores language-model logits (batch, positions, vocabulary), got "
                             f"{found}; for a classifier's (batch, labels) write your own metric, e.g. "
                             f"lambda logits: (logits[:, 1] - logits[:, 0]).mean()")
        b, t, v = logits.shape
        rows = torch.arange(b, device=logits.device)
        positions = position_index(self.position, t)
        target = token_ids(self.target, "target", v, (b,), "(batch,)", logits.device)
        chosen = logits[rows, positions, target]
        if self.foil is not None:
            chosen = chosen - logits[rows, positions, token_ids(self.foil, "foil", v, (b,), "(batch,)", logits.device)]
        return chosen.mean()

    def __repr__(self) -> str:
        return f"logit_difference({self.target}, {self.foil}, position={self.position})"


def logit_difference(target: int | torch.Tensor, foil: int | torch.Tensor | None = None,
                     position: int = -1) -> LogitDifference:
    """A metric: ``logit(target) - logit(foil)`` at ``position``, averaged over the batch (see ``LogitDifference``).

    For GPT, ``position=-1`` scores the next token; for BERT pass the
    ``[MASK]`` position. Ids are checked against the vocabulary and the
    position against the input when the metric runs.
    """
    return LogitDifference(target, foil, position)


def as_number(value, metric: Metric, where: str) -> float:
    """The metric's value as a float; one clear line when it is not one number, or is NaN (``where`` says when)."""
    name = getattr(metric, "__name__", metric)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        number = float(value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        found = f"a tensor of shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else repr(value)
        raise ValueError(f"the metric {name!r} must return one number (a float or a 1-element tensor), got {found}; "
                         f"reduce it, e.g. with .mean() over the batch")
    if math.isnan(number):  # one NaN would make the normalised result NaN everywhere
        raise ValueError(f"the metric {name!r} returned NaN {where}; look for a 0/0 or a log of 0 in the metric, "
                         f"or NaN in the logits")
    return number
