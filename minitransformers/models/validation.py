"""Checks on model inputs, so mistakes fail here with a clear message, not deep inside torch."""

from __future__ import annotations

import torch


def _is_compiling() -> bool:
    # Value checks read tensor contents (a device sync and a graph break
    # under torch.compile), so compiled models skip them.
    return torch.compiler.is_compiling()


def check_ids(name: str, ids: torch.Tensor, upper: int, what: str) -> None:
    """``ids`` must be an integer ``(b, t)`` tensor with values in ``[0, upper)``."""
    if not isinstance(ids, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(ids).__name__}")
    if ids.dim() != 2:
        hint = " (add a batch dimension with .unsqueeze(0))" if ids.dim() == 1 else ""
        raise ValueError(f"{name} must have shape (batch, seq_len), got shape {tuple(ids.shape)}{hint}")
    if ids.dtype.is_floating_point or ids.dtype == torch.bool or ids.dtype.is_complex:
        raise TypeError(f"{name} must hold integer ids (torch.long), got dtype {ids.dtype}")
    if ids.numel() == 0 or _is_compiling():
        return
    low, high = (int(v) for v in torch.aminmax(ids))  # one pass, one device sync
    if low < 0 or high >= upper:
        bad = low if low < 0 else high
        raise ValueError(f"{name} contains {bad}, outside {what} [0, {upper - 1}]")


def check_inputs(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    vocab_size: int,
    max_positions: int | None,
    past_length: int = 0,
) -> None:
    """Validate token ids, sequence length and the attention mask's shape."""
    check_ids("input_ids", input_ids, vocab_size, "the vocabulary")
    b, t = input_ids.shape
    if t == 0:
        raise ValueError("input_ids is empty along the sequence dimension: give at least one token")
    total = past_length + t
    if max_positions is not None and total > max_positions:
        raise ValueError(
            f"sequence length {total} exceeds max_positions={max_positions}; truncate the input "
            f"or build the model with a larger max_positions"
        )
    if attention_mask is not None:
        if not isinstance(attention_mask, torch.Tensor):
            raise TypeError(f"attention_mask must be a torch.Tensor, got {type(attention_mask).__name__}")
        if tuple(attention_mask.shape) != (b, total):
            raise ValueError(
                f"attention_mask has shape {tuple(attention_mask.shape)} but input_ids needs "
                f"({b}, {total}) (batch, cached + new tokens): one 1/0 entry per token"
            )
        if attention_mask.dtype.is_floating_point and not _is_compiling():
            if not torch.all((attention_mask == 0) | (attention_mask == 1)):
                raise ValueError("attention_mask must contain only 1 (real token) and 0 (padding)")
