"""Causal language-model data: cut one long stream of token ids into equal blocks.

A GPT learns from contiguous text. We join all documents into one flat
tensor of ids and cut it into blocks of ``block_size`` tokens. Each example
is ``{"input_ids": block, "labels": block}``: input and labels are the *same*
ids, because our models (like ``transformers``) shift the labels by one
position inside ``forward`` — position ``t`` is trained to predict token
``t + 1`` of the same block.

    stream:   [ t0 t1 t2 t3 | t4 t5 t6 t7 | t8 t9 ]      block_size = 4
    blocks:     example 0     example 1     (t8 t9 dropped: too short)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor


def concatenate_ids(
    sequences: Iterable[Sequence[int] | Tensor], separator_id: int | None = None
) -> Tensor:
    """Join token-id sequences into one flat ``(n,)`` long tensor.

    ``separator_id`` (e.g. an end-of-text id) is placed after every sequence,
    so the model can learn where one document ends and the next begins.
    """
    pieces = []
    for ids in sequences:
        pieces.append(torch.as_tensor(ids, dtype=torch.long).reshape(-1))
        if separator_id is not None:
            pieces.append(torch.tensor([separator_id], dtype=torch.long))
    if not pieces:
        return torch.zeros(0, dtype=torch.long)
    return torch.cat(pieces)


class CausalLMDataset(torch.utils.data.Dataset):
    """Contiguous blocks of ``block_size`` token ids from a flat id stream.

    Args:
        token_ids: ``(n,)`` ids (tensor or list of ints), all documents joined.
        block_size: tokens per example, at most the model's ``max_positions``.
        stride: distance between block starts; defaults to ``block_size``
            (no overlap). A smaller stride gives overlapping blocks (more
            examples, e.g. for evaluation with more left context).

    Each item is ``{"input_ids": (t,), "labels": (t,)}`` with ``t = block_size``.
    """

    def __init__(
        self, token_ids: Sequence[int] | Tensor, block_size: int, stride: int | None = None
    ) -> None:
        self.token_ids = torch.as_tensor(token_ids, dtype=torch.long).reshape(-1)
        if block_size < 2:
            raise ValueError(
                f"block_size must be at least 2 (one input, one target), got {block_size}"
            )
        self.block_size = block_size
        self.stride = block_size if stride is None else stride
        if self.stride < 1:
            raise ValueError(f"stride must be a positive number of tokens, got {self.stride}")
        if len(self.token_ids) < block_size:
            raise ValueError(
                f"only {len(self.token_ids)} tokens, fewer than block_size={block_size}; "
                "use a smaller block_size or more text"
            )

    def __len__(self) -> int:
        # Starts 0, stride, 2*stride, ... while a whole block still fits.
        return (len(self.token_ids) - self.block_size) // self.stride + 1

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"block {index} out of range for {len(self)} blocks")
        start = (index % len(self)) * self.stride
        block = self.token_ids[start : start + self.block_size]
        # labels are a copy: a model that edits labels in place must not edit the inputs.
        return {"input_ids": block.clone(), "labels": block.clone()}

    def batch(self, indices: Tensor) -> dict[str, Tensor]:
        """Blocks ``indices`` stacked, ``(b t)`` each, with one indexing operation.

        The same tensors as stacking ``self[i]`` for each index, without a
        Python loop: this is what the trainer calls for every step.
        """
        indices = torch.as_tensor(indices, dtype=torch.long).reshape(-1)
        if len(indices) and not (-len(self) <= int(indices.min()) and int(indices.max()) < len(self)):
            raise IndexError(f"block indices must be in [{-len(self)}, {len(self)}), got {indices.tolist()}")
        starts = (indices % len(self)) * self.stride
        blocks = self.token_ids[starts[:, None] + torch.arange(self.block_size)]  # (b t)
        return {"input_ids": blocks, "labels": blocks.clone()}

    def __repr__(self) -> str:
        return (
            f"CausalLMDataset({len(self)} blocks of {self.block_size} tokens, "
            f"stride {self.stride}, {len(self.token_ids)} tokens in all)"
        )
