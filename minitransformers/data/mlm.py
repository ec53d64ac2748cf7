"""Masked language-model data for BERT: the masking rule and a dataset around it.

BERT hides some input tokens and learns to guess them from both sides. Of
the ordinary tokens, 15% are *selected*; a selected token is

* replaced by ``[MASK]`` 80% of the time,
* replaced by a random token 10% of the time,
* left unchanged 10% of the time.

The label of a selected token is its original id; every other label is
``-100``, which the cross-entropy loss ignores. Why not always ``[MASK]``?
``[MASK]`` never appears at fine-tuning time, so the model must also learn
a useful representation for tokens it *can* see and that may be wrong.

With next-sentence prediction (NSP) each example is a pair of segments,

    [CLS] a a a [SEP] b b b b [SEP] [PAD] [PAD]
    type:   0 0 0 0 0  1 1 1 1  1     0     0

where ``b`` follows ``a`` in the text half of the time (label 0) and is a
random segment otherwise (label 1), the same labels as ``transformers``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

IGNORE_INDEX = -100  # the label value cross-entropy skips


def mask_tokens(
    input_ids: Tensor,
    *,
    mask_token_id: int,
    vocab_size: int,
    special_token_ids: Iterable[int] = (),
    special_mask: Tensor | None = None,
    mask_probability: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Apply BERT's masking rule; returns ``(masked_ids, labels)``, both shaped like ``input_ids``.

    ``input_ids`` has any shape, e.g. ``(t,)`` or ``(b, t)``. Tokens whose id is
    in ``special_token_ids`` (give ``[CLS]``, ``[SEP]``, ``[PAD]``, ...) or
    where ``special_mask`` is True are never selected. Random replacements are
    drawn uniformly from the whole vocabulary, as in BERT.
    """
    if not 0.0 <= mask_probability <= 1.0:
        raise ValueError(f"mask_probability must be in [0, 1], got {mask_probability}")
    protected = torch.isin(input_ids, torch.as_tensor(list(special_token_ids), dtype=torch.long))
    if special_mask is not None:
        if special_mask.shape != input_ids.shape:
            raise ValueError(
                f"special_mask has shape {tuple(special_mask.shape)} but input_ids has "
                f"{tuple(input_ids.shape)}; give one flag per token"
            )
        protected = protected | special_mask.bool()

    probability = torch.full(input_ids.shape, mask_probability)
    probability[protected] = 0.0
    selected = torch.bernoulli(probability, generator=generator).bool()
    labels = torch.where(selected, input_ids, IGNORE_INDEX)

    # One uniform draw per token decides its fate: [0, 0.8) mask, [0.8, 0.9) random, rest keep.
    fate = torch.rand(input_ids.shape, generator=generator)
    to_mask = selected & (fate < 0.8)
    to_random = selected & (fate >= 0.8) & (fate < 0.9)
    random_ids = torch.randint(vocab_size, input_ids.shape, generator=generator)

    masked_ids = input_ids.clone()
    masked_ids[to_mask] = mask_token_id
    masked_ids[to_random] = random_ids[to_random]
    return masked_ids, labels


def _example_generator(*parts: int) -> torch.Generator:
    """A generator seeded from ``(seed, epoch, index)``: the same example always gets the same draw."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)


class MaskedLMDataset(torch.utils.data.Dataset):
    """BERT pre-training examples from a list of tokenized segments in reading order.

    Args:
        segments: token-id lists without special tokens, in text order (for a
            play, one speech or paragraph each). Segment ``i + 1`` is the true
            "next sentence" of segment ``i``.
        block_size: length of every example, padding included.
        cls_token_id, sep_token_id, pad_token_id, mask_token_id, vocab_size:
            from the tokenizer.
        next_sentence: build NSP pairs ``[CLS] a [SEP] b [SEP]`` (else
            ``[CLS] a [SEP]``).
        mask_probability: share of ordinary tokens selected for prediction.
        seed: with :meth:`set_epoch`, fixes every mask and pairing, so a
            resumed or distributed run sees exactly the same examples.

    Each item holds ``input_ids``, ``attention_mask``, ``token_type_ids``,
    ``labels`` (each ``(t,)``) and, with NSP, a scalar ``next_sentence_label``.
    """

    def __init__(
        self,
        segments: Sequence[Sequence[int] | Tensor],
        *,
        block_size: int,
        cls_token_id: int,
        sep_token_id: int,
        pad_token_id: int,
        mask_token_id: int,
        vocab_size: int,
        next_sentence: bool = False,
        mask_probability: float = 0.15,
        seed: int = 0,
    ) -> None:
        self.segments = [torch.as_tensor(s, dtype=torch.long).reshape(-1) for s in segments]
        self.segments = [s for s in self.segments if len(s) > 0]
        needed = 2 if next_sentence else 1
        if len(self.segments) < needed:
            raise ValueError(f"need at least {needed} non-empty segments, got {len(self.segments)}")
        if block_size < (5 if next_sentence else 3):
            raise ValueError(f"block_size={block_size} leaves no room for tokens between specials")
        self.block_size = block_size
        self.cls_token_id, self.sep_token_id = cls_token_id, sep_token_id
        self.pad_token_id, self.mask_token_id = pad_token_id, mask_token_id
        self.vocab_size = vocab_size
        self.next_sentence = next_sentence
        self.mask_probability = mask_probability
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw fresh masks for a new pass over the data (dynamic masking, as in RoBERTa)."""
        self.epoch = epoch

    def __len__(self) -> int:
        # With NSP the last segment has no true successor, so it only serves as a random b.
        return len(self.segments) - 1 if self.next_sentence else len(self.segments)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(f"example {index} out of range for {len(self)} examples")
        generator = _example_generator(self.seed, self.epoch, index)
        a = self.segments[index]
        if not self.next_sentence:
            return self._assemble([a[: self.block_size - 2]], generator)
        is_random = bool(torch.rand((), generator=generator) < 0.5)
        if is_random:
            # Any segment but the true next one (nor a itself).
            other = int(torch.randint(len(self.segments) - 2, (), generator=generator))
            b = self.segments[other + 2 if other >= index else other]
        else:
            b = self.segments[index + 1]
        a, b = _truncate_pair(a, b, self.block_size - 3)
        example = self._assemble([a, b], generator)
        example["next_sentence_label"] = torch.tensor(int(is_random))
        return example

    def _assemble(self, parts: list[Tensor], generator: torch.Generator) -> dict[str, Tensor]:
        """``[CLS] p0 [SEP] (p1 [SEP])`` padded to block_size, then masked."""
        cls = torch.tensor([self.cls_token_id])
        sep = torch.tensor([self.sep_token_id])
        pieces, types, specials = [cls], [torch.zeros(1, dtype=torch.long)], [torch.ones(1)]
        for segment_type, part in enumerate(parts):
            pieces += [part, sep]
            types.append(torch.full((len(part) + 1,), segment_type))
            specials += [torch.zeros(len(part)), torch.ones(1)]
        n_pad = self.block_size - sum(len(piece) for piece in pieces)
        ids = torch.cat([*pieces, torch.full((n_pad,), self.pad_token_id)])
        token_type_ids = torch.cat([*types, torch.zeros(n_pad, dtype=torch.long)])
        attention_mask = (torch.arange(self.block_size) < self.block_size - n_pad).long()
        # Specials are protected by *position*, not by id: padding and the [CLS]/[SEP] we
        # placed are never masked, whatever ids the tokenizer gave them.
        is_special = torch.cat([*specials, torch.ones(n_pad)]).bool()
        masked_ids, labels = mask_tokens(
            ids,
            mask_token_id=self.mask_token_id,
            vocab_size=self.vocab_size,
            special_mask=is_special,
            mask_probability=self.mask_probability,
            generator=generator,
        )
        return {
            "input_ids": masked_ids,
            "attention_mask": attention_mask,
            "token_type_ids": token_type_ids,
            "labels": labels,
        }


def _truncate_pair(a: Tensor, b: Tensor, budget: int) -> tuple[Tensor, Tensor]:
    """Shorten the longer segment until ``len(a) + len(b) <= budget``.

    ``a`` loses tokens from its start and ``b`` from its end, so the place
    where ``a`` meets ``b`` — the evidence for "is next" — is kept.
    """
    length_a, length_b = len(a), len(b)
    while length_a + length_b > budget:
        if length_a > length_b:
            length_a -= 1
        else:
            length_b -= 1
    return a[len(a) - length_a :], b[:length_b]
