"""Truncating pairs and padding batches: the shape work shared by every tokenizer.

A batch of ``b`` encoded texts has ragged lengths; models want a ``b t``
rectangle. Padding adds ``pad_token_id`` and marks it with 0 in the
``attention_mask`` so attention ignores it.
"""

from __future__ import annotations

from typing import Any


class BatchEncoding(dict):
    """A dict of model inputs (``input_ids``, ``attention_mask``, ``token_type_ids``).

    Keys can also be read as attributes: ``batch.input_ids``.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def truncate_pair(
    ids_a: list[int], ids_b: list[int] | None, max_tokens: int
) -> tuple[list[int], list[int] | None]:
    """Cut one or two id lists so that together they hold at most ``max_tokens``.

    For pairs this is the "longest first" rule of Hugging Face ``tokenizers``:
    only the longer text loses tokens while that is enough; otherwise each
    keeps half (the longer one gets the odd token). Tokens go from the end.
    """
    if max_tokens < 0:
        raise ValueError(
            f"max_length is smaller than the number of special tokens to add "
            f"({max_tokens} tokens left for text); use a larger max_length"
        )
    if ids_b is None:
        return ids_a[:max_tokens], None
    n_a, n_b = len(ids_a), len(ids_b)
    if n_a + n_b <= max_tokens:
        return ids_a, ids_b
    short = min(n_a, n_b)
    # Case 1: dropping from the longer text alone is enough.
    keep_short, keep_long = short, max(short, max_tokens - short) if short <= max_tokens else short
    if keep_short + keep_long > max_tokens:
        # Case 2: both are cut; the longer keeps the odd token.
        keep_short, keep_long = max_tokens // 2, max_tokens // 2 + max_tokens % 2
    keep_a, keep_b = (keep_long, keep_short) if n_a > n_b else (keep_short, keep_long)
    return ids_a[:keep_a], ids_b[:keep_b]


def pad_batch(
    batch: dict[str, list[list[int]]],
    padding: bool | str,
    max_length: int | None,
    pad_token_id: int | None,
    padding_side: str,
) -> dict[str, list[list[int]]]:
    """Pad every row of ``input_ids`` / ``token_type_ids`` / ``attention_mask`` to one length.

    ``padding``: ``True`` or ``"longest"`` (longest row) or ``"max_length"``.
    """
    if padding is True or padding == "longest":
        target = max((len(ids) for ids in batch["input_ids"]), default=0)
    elif padding == "max_length":
        if max_length is None:
            raise ValueError("padding='max_length' needs max_length=<length to pad to>")
        target = max_length
    else:
        raise ValueError(f"padding must be False, True, 'longest' or 'max_length', got {padding!r}")
    if pad_token_id is None:
        raise ValueError(
            "this tokenizer has no padding token; build it with one "
            "(e.g. pad_token='<|endoftext|>' for GPT-2) before padding a batch"
        )
    fill = {"input_ids": pad_token_id, "token_type_ids": 0, "attention_mask": 0}
    padded: dict[str, list[list[int]]] = {}
    for key, rows in batch.items():
        out = []
        for row in rows:
            extra = [fill[key]] * max(0, target - len(row))
            out.append(extra + row if padding_side == "left" else row + extra)
        padded[key] = out
    return padded
