"""Choosing the next token from the model's scores: small pure functions on logits.

Each function takes next-token logits of shape ``(b, v)`` (one row per
sequence, one score per vocabulary entry) and returns new logits of the
same shape, or the chosen ids ``(b, 1)``. A token is *removed* by setting
its logit to ``-inf``: softmax then gives it probability exactly 0.

The usual order (also the one ``transformers`` uses) is: repetition
penalty -> temperature -> top-k -> top-p -> greedy pick or random draw.
"""

from __future__ import annotations

import math

import torch


def check_sampling_options(
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition_penalty: float = 1.0,
) -> None:
    """Refuse settings that cannot mean anything, NaN and infinity included, before any logits exist.

    (``nan < 0`` is False, so a NaN slips through plain range checks and
    turns every logit into NaN: a traceback when sampling, garbage when greedy.)
    """
    if not _is_number(temperature) or not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0 (0 = greedy), got {temperature!r}")
    if not _is_number(repetition_penalty) or not math.isfinite(repetition_penalty) or repetition_penalty <= 0:
        raise ValueError(
            f"repetition_penalty must be a finite number > 0 (1 means no penalty), got {repetition_penalty!r}"
        )
    if top_p is not None and (not _is_number(top_p) or not 0 < top_p <= 1):
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k <= 0):
        raise ValueError(f"top_k must be a positive whole number of tokens, got {top_k!r}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def greedy(logits: torch.Tensor) -> torch.Tensor:
    """The most likely token of each row: ``(b, v) -> (b, 1)``."""
    return logits.argmax(dim=-1, keepdim=True)


def sample(logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one token per row from ``softmax(logits)``: ``(b, v) -> (b, 1)``.

    Softmax runs in float32 so half-precision logits do not lose small probabilities.
    """
    probabilities = torch.softmax(logits.float(), dim=-1)
    return torch.multinomial(probabilities, num_samples=1, generator=generator)


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide by ``temperature``: below 1 sharpens the distribution, above 1 flattens it.

    Returns float32 logits whatever the model's dtype: a score of 10 divided by
    ``1e-6`` is ``1e7``, far past float16's largest number (65504), and the
    resulting ``inf - inf`` in softmax is NaN.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 to sample (use greedy for 0), got {temperature}")
    return logits.float() / temperature


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` highest-scoring tokens of each row and remove the rest.

    With ``k >= v`` nothing is removed. Ties at the k-th place are broken
    by ``torch.topk``, so exactly ``min(k, v)`` tokens survive.
    """
    if k <= 0:
        raise ValueError(f"top_k must be a positive number of tokens, got {k}")
    if k >= logits.shape[-1]:
        return logits
    kept = torch.topk(logits, k, dim=-1).indices  # (b, k)
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, kept, True)
    return logits.masked_fill(~keep, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering: keep the most likely tokens until their probabilities add up to ``p``.

    A token survives when the tokens ranked above it hold less than ``p``
    of the probability, so the most likely token always survives and the
    kept set is the smallest one whose mass reaches ``p``.
    """
    if not 0 < p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {p}")
    sorted_logits, order = logits.sort(dim=-1, descending=True)
    probabilities = torch.softmax(sorted_logits.float(), dim=-1)
    mass_above = probabilities.cumsum(dim=-1) - probabilities  # mass of the better-ranked tokens
    drop_sorted = mass_above >= p
    # Undo the sort: drop_sorted[i, j] is about token order[i, j].
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def apply_repetition_penalty(
    logits: torch.Tensor,
    previous_ids: torch.Tensor,
    penalty: float,
    previous_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Make tokens that already appeared less likely (the CTRL paper's penalty).

    ``previous_ids (b, t)`` are the tokens so far; ``previous_mask (b, t)``
    (1 = real token, 0 = padding) says which of them count. A seen token's
    logit is divided by ``penalty`` when positive and multiplied when
    negative, so ``penalty > 1`` always pushes it down and ``1`` does nothing.
    """
    if penalty <= 0:
        raise ValueError(f"repetition_penalty must be > 0 (1 means no penalty), got {penalty}")
    if penalty == 1.0:
        return logits
    counts_as_seen = torch.ones_like(previous_ids, dtype=logits.dtype)
    if previous_mask is not None:
        counts_as_seen = previous_mask.to(logits.dtype)
    # How often each vocabulary entry occurs in each row: (b, v).
    occurrences = torch.zeros_like(logits).scatter_add(-1, previous_ids, counts_as_seen)
    penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(occurrences > 0, penalised, logits)


def choose_next_token(
    logits: torch.Tensor,
    *,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition_penalty: float = 1.0,
    previous_ids: torch.Tensor | None = None,
    previous_mask: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """All of the above in order: ``(b, v)`` logits -> ``(b, 1)`` chosen ids.

    ``temperature=0`` is greedy decoding (top-k and top-p then change
    nothing, since the best token always survives them).
    """
    check_sampling_options(temperature, top_k, top_p, repetition_penalty)
    if repetition_penalty != 1.0 and previous_ids is not None:
        logits = apply_repetition_penalty(logits, previous_ids, repetition_penalty, previous_mask)
    if temperature == 0:
        return greedy(logits)
    # Shifting each row's best score to 0 changes no probability, and keeps even a
    # temperature too small for float32 from turning scores into inf (then NaN).
    logits = logits.float()
    logits = apply_temperature(logits - logits.amax(dim=-1, keepdim=True), temperature)
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return sample(logits, generator)
