"""The checks every interpret tool makes on the token ids and positions it is asked about.

The logit lens, direct logit attribution and the patching metrics all read
``logits[..., position, id]``. Plain indexing would turn a bad argument into
a raw ``IndexError``, or worse, a silent answer: a negative id wraps to the
last vocabulary entries, a float ``2.0`` fails deep inside. These two
functions turn every such argument into one line that names it.
"""

from __future__ import annotations

import torch


def token_ids(value, name: str, vocab_size: int, shape: tuple[int, ...], shape_words: str,
              device: torch.device | None = None) -> torch.Tensor:
    """``value`` (one id, or integer ids of ``shape``) as ids of ``shape``, each in ``[0, vocab_size)``.

    ``shape_words`` says what each axis of ``shape`` is, for the message
    (e.g. ``"(batch,)"``).
    """
    if isinstance(value, bool) or not isinstance(value, (int, torch.Tensor)):
        raise TypeError(f"{name} must be a token id (an int) or a tensor of integer ids of shape {shape_words} = "
                        f"{shape}, got {type(value).__name__} {value!r}")
    ids = torch.as_tensor(value, device=device)
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer token ids, got a {ids.dtype} tensor; convert it with .long()")
    if ids.dim() == 0:
        ids = ids.expand(shape)
    if tuple(ids.shape) != tuple(shape):
        raise ValueError(f"{name} must be one token id or ids of shape {shape_words} = {tuple(shape)}, "
                         f"got shape {tuple(ids.shape)}")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
        raise ValueError(f"{name} ids must lie in the vocabulary, 0 to {vocab_size - 1}, got "
                         f"{int(ids.min())}..{int(ids.max())}; negative ids do not count from the end here")
    return ids


def check_token_id(value, name: str) -> None:
    """Before any logits exist: ``value`` is a non-negative int or a tensor of non-negative integer ids."""
    if isinstance(value, bool) or not isinstance(value, (int, torch.Tensor)):
        raise TypeError(f"{name} must be a token id (an int) or a tensor of integer ids, one per input, "
                        f"got {type(value).__name__} {value!r}")
    ids = torch.as_tensor(value)
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer token ids, got a {ids.dtype} tensor; convert it with .long()")
    if ids.dim() > 1:
        raise ValueError(f"{name} must be one token id or one id per input (batch,), got shape {tuple(ids.shape)}")
    if ids.numel() and int(ids.min()) < 0:
        raise ValueError(f"{name} must be a token id from 0 up, got {int(ids.min())}; negative ids do not "
                         f"count from the end of the vocabulary here")


def position_index(position, t: int, name: str = "position") -> int:
    """``position`` as an index in ``[0, t)`` (negative counts from the end), or one clear line."""
    if isinstance(position, bool) or not isinstance(position, int):
        raise TypeError(f"{name} must be an int (a token position), got {type(position).__name__} {position!r}")
    if not -t <= position < t:
        raise IndexError(f"{name} {position} does not exist in an input of {t} tokens "
                         f"(positions 0 to {t - 1}, or -1 to {-t} from the end)")
    return position % t
