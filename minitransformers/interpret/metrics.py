"""Patching metrics: logits ``(b t v)`` -> one number, and the checks on the number a metric gives.

    metric = logit_difference(target=him_id, foil=her_id)                # GPT: the next token
    metric = logit_difference(him_id, her_id, mask_token_id=tok.mask_token_id)   # BERT: the one [MASK]
    metric = logit_difference(him_id, her_id, position=4)                # any model: position 4

Which position to score depends on the model: GPT predicts the next token
at the last position, BERT predicts a hidden word at its ``[MASK]``. The
logits alone do not say which model made them, so a metric without a
position is completed by ``patch_activations`` and ``patch_one``, which
know the model and the input (``for_input``); called on its own it asks
for a position rather than guess one. The ids are checked against the
vocabulary and the position against the input when the metric runs
(``_checks.py``): plain indexing would wrap a negative id to the end of the
vocabulary without a word.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from ._checks import check_token_id, position_index, token_ids

Metric = Callable[[torch.Tensor], torch.Tensor | float]  # logits (b ...) -> one number


@dataclass(frozen=True, eq=False)
class LogitDifference:
    """``logits[:, position, target] - logits[:, position, foil]``, averaged over the batch.

    ``target`` / ``foil``: one token id, or one per input ``(b)``; without
    ``foil`` the target's logit. ``position``: an int, one per input
    ``(b)``, or ``None`` (the patching tools then pick GPT's last position or
    BERT's one ``[MASK]``, found with ``mask_token_id``).
    """

    target: int | torch.Tensor
    foil: int | torch.Tensor | None = None
    position: int | torch.Tensor | None = None
    mask_token_id: int | None = None

    def __post_init__(self) -> None:
        check_token_id(self.target, "target")
        if self.foil is not None:
            check_token_id(self.foil, "foil")
        if isinstance(self.position, torch.Tensor):
            check_token_id(self.position, "position")  # integers from 0, one per input
        elif self.position is not None and (isinstance(self.position, bool) or not isinstance(self.position, int)):
            raise TypeError(f"position must be an int (a token position) or None, got "
                            f"{type(self.position).__name__} {self.position!r}")
        if self.mask_token_id is not None:
            check_token_id(self.mask_token_id, "mask_token_id")

    def for_input(self, family: str, input_ids: torch.Tensor) -> LogitDifference:
        """This metric with its position filled in for ``input_ids`` ``(b t)`` of a ``"gpt"`` or ``"bert"`` model."""
        if self.position is not None:
            return self
        if family == "gpt":
            return replace(self, position=-1)  # the last position predicts the next token
        if self.mask_token_id is None:
            raise ValueError("logit_difference on BERT needs the position of the hidden word: pass "
                             "mask_token_id=tokenizer.mask_token_id (it then scores the one [MASK] of each input) "
                             "or position=<its index>; without either it would score the last token, the final [SEP]")
        is_mask = input_ids == self.mask_token_id
        counts = is_mask.sum(dim=-1)
        if not bool((counts == 1).all()):
            row = int((counts != 1).nonzero()[0, 0])
            raise ValueError(f"logit_difference without a position scores the [MASK] (id {self.mask_token_id}) when "
                             f"each input has exactly one; input {row} has {int(counts[row])}, so pass position=<the "
                             f"index of the [MASK] to score>")
        positions = is_mask.int().argmax(dim=-1)  # (b): the one [MASK] of each input
        same = bool((positions == positions[0]).all())
        return replace(self, position=int(positions[0]) if same else positions)

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        if not isinstance(logits, torch.Tensor) or logits.dim() != 3:
            found = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise ValueError(f"logit_difference scores language-model logits (batch, positions, vocabulary), got "
                             f"{found}; for a classifier's (batch, labels) write your own metric, e.g. "
                             f"lambda logits: (logits[:, 1] - logits[:, 0]).mean()")
        b, t, v = logits.shape
        rows = torch.arange(b, device=logits.device)
        positions = self._positions(b, t, logits.device)
        target = token_ids(self.target, "target", v, (b,), "(batch,)", logits.device)
        chosen = logits[rows, positions, target]
        if self.foil is not None:
            chosen = chosen - logits[rows, positions, token_ids(self.foil, "foil", v, (b,), "(batch,)", logits.device)]
        return chosen.mean()

    def _positions(self, b: int, t: int, device: torch.device) -> torch.Tensor:
        """``(b)`` positions, each checked against the input's length ``t``."""
        if self.position is None:
            raise ValueError(f"{self!r} has no position, and logits alone do not say whether a GPT (score the "
                             f"last position, -1) or a BERT (score the [MASK]) made them: pass position=..., "
                             f"or give the metric to patch_activations / patch_one, which choose it for the model")
        if isinstance(self.position, int):
            return torch.full((b,), position_index(self.position, t), device=device)
        positions = self.position.to(device)
        if tuple(positions.shape) != (b,) or int(positions.max()) >= t:
            raise ValueError(f"position holds one position per input, shape {tuple(positions.shape)}, up to "
                             f"{int(positions.max())}; these logits have {b} inputs of {t} positions")
        return positions

    def __repr__(self) -> str:
        return f"logit_difference({self.target}, {self.foil}, position={self.position})"


def logit_difference(target: int | torch.Tensor, foil: int | torch.Tensor | None = None,
                     position: int | None = None, mask_token_id: int | None = None) -> LogitDifference:
    """A metric: ``logit(target) - logit(foil)`` at ``position``, averaged over the batch (see ``LogitDifference``).

    Leave ``position`` out to score GPT's next token, or BERT's ``[MASK]``
    given ``mask_token_id``; ids are checked against the vocabulary and the
    position against the input when the metric runs.
    """
    return LogitDifference(target, foil, position, mask_token_id)


def for_input(metric: Metric, family: str, input_ids: torch.Tensor) -> Metric:
    """``metric`` completed for this model and input, when it knows how (``LogitDifference`` does)."""
    complete = getattr(metric, "for_input", None)
    return complete(family, input_ids) if callable(complete) else metric


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
