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
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import Tensor

from ..models.base import IGNORE_INDEX  # the label value cross-entropy skips


def mask_tokens(
    input_ids: Tensor,
    *,
    mask_token_id: int,
    vocab_size: int,
    special_token_ids: Iterable[int] = (),
    special_mask: Tensor | None = None,
    mask_probability: float = 0.15,
    generator: torch.Generator | None = None,
    replace_shares: tuple[float, float, float] = (0.8, 0.1, 0.1),
    word_starts: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Apply BERT's masking rule; returns ``(masked_ids, labels)``, both shaped like ``input_ids``.

    ``replace_shares`` are the shares of selected tokens that become ``[MASK]``,
    a random token, or stay unchanged: BERT's 80/10/10 for training; ``(1, 0, 0)``
    measures how well the model fills a plain ``[MASK]``, as at evaluation time.

    ``input_ids`` has any shape, e.g. ``(t,)`` or ``(b, t)``. Tokens whose id is
    in ``special_token_ids`` (give ``[CLS]``, ``[SEP]``, ``[PAD]``, ...) or
    where ``special_mask`` is True are never selected. Random replacements are
    drawn uniformly from the whole vocabulary, as in BERT.

    ``word_starts`` (shaped like ``input_ids``, True where a token begins a
    word) turns on *whole-word masking*: a word's tokens are selected
    together, by the draw of its first token. Without it, ``Messengers``
    (``M`` + ``essengers``) can lose only ``essengers``, and the visible ``M``
    gives most of the answer away.
    """
    if not 0.0 <= mask_probability <= 1.0:
        raise ValueError(f"mask_probability must be in [0, 1], got {mask_probability}")
    _check_shares(replace_shares)
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
    if word_starts is not None:
        selected = _spread_over_words(selected, word_starts.bool() | protected) & ~protected
    labels = torch.where(selected, input_ids, IGNORE_INDEX)

    # One uniform draw per token decides its fate: [0, 0.8) mask, [0.8, 0.9) random, rest keep.
    fate = torch.rand(input_ids.shape, generator=generator)
    mask_share, random_share = replace_shares[0], replace_shares[1]
    to_mask = selected & (fate < mask_share)
    to_random = selected & (fate >= mask_share) & (fate < mask_share + random_share)
    random_ids = torch.randint(vocab_size, input_ids.shape, generator=generator)

    masked_ids = input_ids.clone()
    masked_ids[to_mask] = mask_token_id
    masked_ids[to_random] = random_ids[to_random]
    return masked_ids, labels


def _spread_over_words(selected: Tensor, word_starts: Tensor) -> Tensor:
    """Each token takes the selection of the first token of its word (along the last dimension)."""
    positions = torch.arange(selected.shape[-1]).expand_as(selected)
    # The position of the latest word start at or before each token: a running maximum.
    first_of_word = torch.where(word_starts, positions, 0).cummax(dim=-1).values
    return selected.gather(-1, first_of_word)


def _check_shares(replace_shares: tuple[float, float, float]) -> None:
    if len(replace_shares) != 3 or min(replace_shares) < 0 or abs(sum(replace_shares) - 1) > 1e-6:
        raise ValueError(
            f"replace_shares must be three non-negative shares (mask, random, keep) summing to 1, "
            f"got {replace_shares}"
        )


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
        documents: the document (e.g. play) of each segment. With it, a random
            ``b`` always comes from *another* document, as in BERT, and
            ``fill`` never crosses a document's end.
        fill: pack whole consecutive segments into ``a`` (a random share of up
            to half the block) and ``b`` (the rest) instead of one segment each,
            so short speeches do not leave the block mostly padding.
        joiner: token ids placed between packed segments, e.g. the ids of a
            blank line, so packed text reads as it does in the document.
        replace_shares: (mask, random, keep) shares of selected tokens; see
            :func:`mask_tokens`. Use ``(1, 0, 0)`` to evaluate.
        continues_word: for whole-word masking, a function of an id tensor
            ``(b t)`` that is True where a token continues the word of the token
            before it (e.g. :func:`~minitransformers.recipes.shakespeare_data.bpe_word_continuation`).
            None: every token is masked on its own.

    Each item holds ``input_ids``, ``attention_mask``, ``token_type_ids``,
    ``labels`` (each ``(t,)``) and, with NSP, a scalar ``next_sentence_label``.
    :meth:`batch` gives the same for many indices at once, ``(b t)``.
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
        documents: Sequence[int] | None = None,
        fill: bool = False,
        replace_shares: tuple[float, float, float] = (0.8, 0.1, 0.1),
        joiner: Sequence[int] = (),
        continues_word: Callable[[Tensor], Tensor] | None = None,
    ) -> None:
        tensors = [torch.as_tensor(s, dtype=torch.long).reshape(-1) for s in segments]
        if documents is not None and len(documents) != len(tensors):
            raise ValueError(f"documents has {len(documents)} entries for {len(tensors)} segments")
        keep = [i for i, t in enumerate(tensors) if len(t) > 0]
        self.segments = [tensors[i] for i in keep]
        self.documents = [int(documents[i]) for i in keep] if documents is not None else None
        needed = 2 if next_sentence else 1
        if len(self.segments) < needed:
            raise ValueError(f"need at least {needed} non-empty segments, got {len(self.segments)}")
        if self.documents is not None and next_sentence and len(set(self.documents)) < 2:
            raise ValueError("next-sentence pairs with documents need at least two documents")
        if block_size < (5 if next_sentence else 3):
            raise ValueError(f"block_size={block_size} leaves no room for tokens between specials")
        self.block_size = block_size
        self.cls_token_id, self.sep_token_id = cls_token_id, sep_token_id
        self.pad_token_id, self.mask_token_id = pad_token_id, mask_token_id
        self.vocab_size = vocab_size
        self.next_sentence, self.fill = next_sentence, fill
        _check_shares(replace_shares)
        self.joiner = torch.as_tensor(list(joiner), dtype=torch.long)
        self.mask_probability, self.replace_shares = mask_probability, tuple(replace_shares)
        self.continues_word = continues_word
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw fresh masks for a new pass over the data (dynamic masking, as in RoBERTa)."""
        self.epoch = epoch

    def __len__(self) -> int:
        # With NSP the last segment has no true successor, so it only serves as a random b.
        return len(self.segments) - 1 if self.next_sentence else len(self.segments)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {key: value[0] for key, value in self.batch(torch.tensor([index])).items()}

    def batch(self, indices: Tensor) -> dict[str, Tensor]:
        """Examples ``indices`` stacked, ``(b t)`` each; masks are drawn for the whole batch at once.

        Pairings and masks depend only on ``(seed, epoch, indices)``, so the
        same call always returns the same batch.
        """
        indices = [int(i) for i in torch.as_tensor(indices).reshape(-1)]
        for index in indices:
            if not 0 <= index < len(self):
                raise IndexError(f"example {index} out of range for {len(self)} examples")
        generator = _example_generator(self.seed, self.epoch, *indices)
        rows = [self._pair(index, generator) for index in indices]
        ids, types, specials, lengths = (torch.stack(column) for column in zip(*[row[:4] for row in rows]))
        # Specials are protected by *position*, not by id: padding and the [CLS]/[SEP] we
        # placed are never masked, whatever ids the tokenizer gave them.
        masked_ids, labels = mask_tokens(
            ids, mask_token_id=self.mask_token_id, vocab_size=self.vocab_size,
            special_mask=specials, mask_probability=self.mask_probability,
            generator=generator, replace_shares=self.replace_shares,
            word_starts=None if self.continues_word is None else ~self.continues_word(ids),
        )
        batch = {
            "input_ids": masked_ids,
            "attention_mask": (torch.arange(self.block_size) < lengths[:, None]).long(),
            "token_type_ids": types,
            "labels": labels,
        }
        if self.next_sentence:
            batch["next_sentence_label"] = torch.tensor([row[4] for row in rows])
        return batch

    def _pair(self, index: int, generator: torch.Generator) -> tuple:
        """``(ids, token types, special flags, length, is_random)`` of one unmasked example."""
        budget = self.block_size - (3 if self.next_sentence else 2)
        if not self.next_sentence:
            return (*self._assemble([self._join(self._take(index, budget))[:budget]]), 0)
        is_random = bool(torch.rand((), generator=generator) < 0.5)
        a_budget = budget
        if self.fill:  # a's share of the block varies, so its length says nothing about the label
            a_budget = int(torch.randint(budget // 8, budget // 2 + 1, (), generator=generator))
        taken = self._take(index, a_budget)
        if len(taken) > 1 and not self._has_next(taken[-1]):
            taken = taken[:-1]  # end a early, so that its true next segment is in the same document
        if not self._has_next(taken[-1]):
            is_random = True  # a one-segment a at its document's end has no true next segment
        start = self._random_segment(index, generator) if is_random else taken[-1] + 1
        a, b = _truncate_pair(self._join(taken), self._join(self._take(start, budget)), budget)
        return (*self._assemble([a, b]), int(is_random))

    def _has_next(self, segment: int) -> bool:
        """Whether segment ``segment + 1`` exists and belongs to the same document."""
        after = segment + 1
        if after >= len(self.segments):
            return False
        return self.documents is None or self.documents[after] == self.documents[segment]

    def _take(self, start: int, budget: int) -> list[int]:
        """Segment ``start`` and, with ``fill``, the ones after it in its document, up to ``budget`` tokens."""
        taken, used = [start], len(self.segments[start])
        while self.fill and self._has_next(taken[-1]):
            following = taken[-1] + 1
            used += len(self.joiner) + len(self.segments[following])
            if used > budget:
                break
            taken.append(following)
        return taken

    def _join(self, indices: list[int]) -> Tensor:
        """The segments at ``indices`` joined with ``joiner`` between them (e.g. a paragraph break)."""
        pieces = [self.segments[indices[0]]]
        for index in indices[1:]:
            pieces += [self.joiner, self.segments[index]]
        return torch.cat(pieces)

    def _random_segment(self, index: int, generator: torch.Generator) -> int:
        """A segment that is not the true next one: from another document when documents are known."""
        if self.documents is None:
            other = int(torch.randint(len(self.segments) - 2, (), generator=generator))
            return other + 2 if other >= index else other  # skip index and index + 1
        while True:
            other = int(torch.randint(len(self.segments), (), generator=generator))
            if self.documents[other] != self.documents[index]:
                return other

    def _assemble(self, parts: list[Tensor]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``[CLS] p0 [SEP] (p1 [SEP])`` padded to block_size: ids, types, special flags, length."""
        cls = torch.tensor([self.cls_token_id])
        sep = torch.tensor([self.sep_token_id])
        pieces, types, specials = [cls], [torch.zeros(1, dtype=torch.long)], [torch.ones(1)]
        for segment_type, part in enumerate(parts):
            pieces += [part, sep]
            types.append(torch.full((len(part) + 1,), segment_type))
            specials += [torch.zeros(len(part)), torch.ones(1)]
        length = sum(len(piece) for piece in pieces)
        n_pad = self.block_size - length
        ids = torch.cat([*pieces, torch.full((n_pad,), self.pad_token_id)])
        token_type_ids = torch.cat([*types, torch.zeros(n_pad, dtype=torch.long)])
        is_special = torch.cat([*specials, torch.ones(n_pad)]).bool()
        return ids, token_type_ids, is_special, torch.tensor(length)


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
