"""The interface every minitransformers tokenizer shares.

A tokenizer turns text into a list of integer ids (``encode``) and back
(``decode``). Subclasses only say how *one plain piece of text* becomes ids
(``_encode_plain``), how tokens become text again (``_tokens_to_text``), and
which special tokens frame a sequence (``_add_special_tokens``). Everything a
model, training loop or CLI needs is written once here:

* ``tokenizer(texts, padding=True, truncation=True, max_length=..,
  return_tensors="pt")`` returns a :class:`BatchEncoding` with ``input_ids``,
  ``attention_mask`` and ``token_type_ids`` (lists, or ``b t`` tensors).
* ``pad_token_id``, ``unk_token_id``, ``cls_token_id``, ``sep_token_id``,
  ``mask_token_id``, ``bos_token_id``, ``eos_token_id`` (``None`` when the
  tokenizer has no such token).
* ``convert_tokens_to_ids`` / ``convert_ids_to_tokens``, ``vocab_size``,
  ``save(directory)`` / ``from_directory(directory)``.

Special tokens written literally in the text (``"[MASK]"``,
``"<|endoftext|>"``) are recognised and become their single id, as in
Hugging Face ``tokenizers``; any other text in brackets is ordinary text.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from minitransformers.tokenizers.batching import BatchEncoding, pad_batch, truncate_pair

SPECIAL_ROLES = ("pad", "unk", "cls", "sep", "mask", "bos", "eos")


class Tokenizer(ABC):
    """Base class: a vocabulary (token -> id), special tokens by role, and the shared API.

    Args:
        vocab: token string -> id; ids must be exactly ``0 .. len(vocab) - 1``.
        special_tokens: role (one of ``SPECIAL_ROLES``) -> token string, e.g.
            ``{"pad": "[PAD]"}``. Every token must be in ``vocab``.
        extra_special_tokens: more tokens that are matched whole in the text
            but have no role.
        padding_side: ``"right"`` (BERT) or ``"left"`` (batched GPT generation).
    """

    def __init__(
        self,
        vocab: dict[str, int],
        special_tokens: dict[str, str] | None = None,
        extra_special_tokens: Sequence[str] = (),
        padding_side: str = "right",
    ) -> None:
        self.vocab = dict(vocab)
        self.id_to_token = _invert_vocab(self.vocab)
        self.special_tokens: dict[str, str] = {}
        for role, token in (special_tokens or {}).items():
            if role not in SPECIAL_ROLES:
                raise ValueError(
                    f"unknown special-token role {role!r}; expected one of {SPECIAL_ROLES}"
                )
            if token not in self.vocab:
                raise ValueError(
                    f"special token {token!r} (role {role!r}) is not in the vocabulary; "
                    f"add it to the vocabulary file or choose a token that is there"
                )
            self.special_tokens[role] = token
        for token in extra_special_tokens:
            if token not in self.vocab:
                raise ValueError(f"special token {token!r} is not in the vocabulary")
        self.all_special_tokens = sorted(
            set(self.special_tokens.values()) | set(extra_special_tokens), key=lambda s: -len(s)
        )
        # Longest first, so that "<|endoftext|>" wins over a shorter special token it contains.
        self._special_pattern = (
            re.compile("|".join(re.escape(t) for t in self.all_special_tokens))
            if self.all_special_tokens
            else None
        )
        if padding_side not in ("right", "left"):
            raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        self.padding_side = padding_side

    # ------------------------------------------------------------------ subclasses fill these in
    @abstractmethod
    def _encode_plain(self, text: str) -> list[int]:
        """Ids for text that contains no special tokens."""

    @abstractmethod
    def _tokens_to_text(self, tokens: list[str]) -> str:
        """Join tokens back into a string (the inverse of splitting)."""

    def _add_special_tokens(
        self, ids_a: list[int], ids_b: list[int] | None
    ) -> tuple[list[int], list[int]]:
        """Frame one or two sequences with special tokens -> (input_ids, token_type_ids).

        The default adds nothing (GPT-2 style); BERT overrides it.
        """
        ids = ids_a + (ids_b or [])
        return ids, [0] * len(ids_a) + [1] * len(ids_b or [])

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        """How many special tokens ``_add_special_tokens`` puts around one (or two) sequences."""
        ids, _ = self._add_special_tokens([], [] if pair else None)
        return len(ids)

    @abstractmethod
    def save(self, directory: str | Path) -> None:
        """Write the files needed to load this tokenizer again with ``from_directory``."""

    @classmethod
    @abstractmethod
    def from_directory(cls, directory: str | Path) -> Tokenizer:
        """Load a tokenizer saved with ``save`` (or a Hugging Face checkpoint folder)."""

    # ------------------------------------------------------------------ the shared API
    @property
    def vocab_size(self) -> int:
        """Number of tokens, special tokens included (the size of the embedding table)."""
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def _role_id(self, role: str) -> int | None:
        token = self.special_tokens.get(role)
        return None if token is None else self.vocab[token]

    pad_token_id = property(
        lambda self: self._role_id("pad"), doc="id of the padding token, or None"
    )
    unk_token_id = property(
        lambda self: self._role_id("unk"), doc="id of the unknown token, or None"
    )
    cls_token_id = property(lambda self: self._role_id("cls"), doc="id of [CLS], or None")
    sep_token_id = property(lambda self: self._role_id("sep"), doc="id of [SEP], or None")
    mask_token_id = property(lambda self: self._role_id("mask"), doc="id of [MASK], or None")
    bos_token_id = property(lambda self: self._role_id("bos"), doc="id of the begin token, or None")
    eos_token_id = property(lambda self: self._role_id("eos"), doc="id of the end token, or None")

    def split_on_special_tokens(self, text: str) -> list[tuple[str, bool]]:
        """Cut text around special tokens -> [(piece, is_special_token), ...]."""
        if not isinstance(text, str):
            raise TypeError(f"expected text as str, got {type(text).__name__}")
        if self._special_pattern is None:
            return [(text, False)] if text else []
        pieces, start = [], 0
        for match in self._special_pattern.finditer(text):
            if match.start() > start:
                pieces.append((text[start : match.start()], False))
            pieces.append((match.group(), True))
            start = match.end()
        if start < len(text):
            pieces.append((text[start:], False))
        return pieces

    def encode_ordinary(self, text: str) -> list[int]:
        """Ids of the text alone: special tokens written in it are kept, none are added."""
        ids: list[int] = []
        for piece, is_special in self.split_on_special_tokens(text):
            ids.extend([self.vocab[piece]] if is_special else self._encode_plain(piece))
        return ids

    def tokenize(self, text: str) -> list[str]:
        """The token strings the text is split into (no special tokens added)."""
        return self.convert_ids_to_tokens(self.encode_ordinary(text))

    def encode(
        self,
        text: str,
        text_pair: str | None = None,
        add_special_tokens: bool = True,
        truncation: bool = False,
        max_length: int | None = None,
    ) -> list[int]:
        """Text (or a pair of texts) -> list of ids, special tokens added by default."""
        return self._encode_one(text, text_pair, add_special_tokens, truncation, max_length)[0]

    def _encode_one(
        self,
        text: str,
        text_pair: str | None,
        add_special_tokens: bool,
        truncation: bool,
        max_length: int | None,
    ) -> tuple[list[int], list[int]]:
        ids_a = self.encode_ordinary(text)
        ids_b = None if text_pair is None else self.encode_ordinary(text_pair)
        if truncation:
            if max_length is None:
                raise ValueError("truncation=True needs max_length=<number of tokens to keep>")
            n_special = (
                self.num_special_tokens_to_add(ids_b is not None) if add_special_tokens else 0
            )
            ids_a, ids_b = truncate_pair(ids_a, ids_b, max_length - n_special)
        if add_special_tokens:
            return self._add_special_tokens(ids_a, ids_b)
        ids = ids_a + (ids_b or [])
        return ids, [0] * len(ids_a) + [1] * len(ids_b or [])

    def __call__(
        self,
        text: str | Sequence[str],
        text_pair: str | Sequence[str] | None = None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
    ) -> BatchEncoding:
        """Encode one text or a batch -> ``input_ids``, ``attention_mask``, ``token_type_ids``.

        Args:
            text: a string, or a list of strings (a batch).
            text_pair: the second text(s) of pairs, same shape as ``text``.
            padding: ``False``; ``True``/``"longest"`` pads to the longest in the batch;
                ``"max_length"`` pads to ``max_length``. Pads with ``pad_token_id``
                on ``padding_side``; the attention mask is 0 on padding.
            truncation: cut sequences to ``max_length`` tokens (special tokens
                included); pairs drop tokens from the longer text first.
            return_tensors: ``None`` for lists, ``"pt"`` for ``b t`` torch tensors.

        Returns:
            For a single string: lists of length ``t`` (tensors ``1 t`` with "pt").
            For a batch: ``b`` lists (tensors ``b t`` with "pt").
        """
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        if text_pair is None:
            pairs: list[str | None] = [None] * len(texts)
        else:
            pairs = [text_pair] if isinstance(text_pair, str) else list(text_pair)
            if len(pairs) != len(texts):
                raise ValueError(
                    f"got {len(texts)} texts but {len(pairs)} text_pairs; give one pair per text"
                )
        encoded = [
            self._encode_one(a, b, add_special_tokens, truncation, max_length)
            for a, b in zip(texts, pairs)
        ]
        batch = {
            "input_ids": [ids for ids, _ in encoded],
            "token_type_ids": [types for _, types in encoded],
            "attention_mask": [[1] * len(ids) for ids, _ in encoded],
        }
        if padding:
            batch = pad_batch(batch, padding, max_length, self.pad_token_id, self.padding_side)
        if return_tensors == "pt":
            import torch

            lengths = {len(ids) for ids in batch["input_ids"]}
            if len(lengths) > 1:
                raise ValueError(
                    f"sequences have different lengths {sorted(lengths)}; pass padding=True "
                    f"to make a rectangular tensor"
                )
            return BatchEncoding({k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()})
        if return_tensors is not None:
            raise ValueError(f"return_tensors must be None or 'pt', got {return_tensors!r}")
        if single:
            batch = {k: v[0] for k, v in batch.items()}
        return BatchEncoding(batch)

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        """Token string(s) -> id(s). Unknown tokens map to ``unk_token_id``; without
        an unknown token they raise ``KeyError``."""
        if isinstance(tokens, str):
            return self._token_to_id(tokens)
        return [self._token_to_id(t) for t in tokens]

    def _token_to_id(self, token: str) -> int:
        if token in self.vocab:
            return self.vocab[token]
        if self.unk_token_id is not None:
            return self.unk_token_id
        raise KeyError(
            f"token {token!r} is not in the vocabulary and this tokenizer has no unknown token"
        )

    def convert_ids_to_tokens(self, ids: int | Sequence[int]) -> str | list[str]:
        """Id(s) -> token string(s). Ids outside ``0 .. vocab_size - 1`` raise ``ValueError``."""
        if isinstance(ids, int):
            return self._id_to_token(ids)
        return [self._id_to_token(int(i)) for i in ids]

    def display_tokens(self, ids: Sequence[int]) -> list[str]:
        """Token labels for plots and pages; the same as ``convert_ids_to_tokens`` unless a
        tokenizer's raw token strings are hard to read (byte-level BPE overrides it)."""
        return self.convert_ids_to_tokens(ids)

    def _id_to_token(self, index: int) -> str:
        if not 0 <= index < len(self.id_to_token):
            raise ValueError(
                f"id {index} is outside the vocabulary (0 .. {len(self.id_to_token) - 1}); "
                f"was it produced by a different tokenizer or a model with a larger vocabulary?"
            )
        return self.id_to_token[index]

    def decode(self, ids: Sequence[int] | Any, skip_special_tokens: bool = False) -> str:
        """Ids (a list or a 1-d tensor) -> text. ``skip_special_tokens`` drops [CLS], padding, etc."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        tokens = self.convert_ids_to_tokens([int(i) for i in ids])
        if skip_special_tokens:
            special = set(self.all_special_tokens)
            tokens = [t for t in tokens if t not in special]
        return self._tokens_to_text(tokens)

    def batch_decode(
        self, batch: Sequence[Sequence[int]] | Any, skip_special_tokens: bool = False
    ) -> list[str]:
        """Decode each row of a ``b t`` batch."""
        if hasattr(batch, "tolist"):
            batch = batch.tolist()
        return [self.decode(row, skip_special_tokens) for row in batch]

    def __repr__(self) -> str:
        roles = ", ".join(f"{r}={t!r}" for r, t in self.special_tokens.items())
        return f"{type(self).__name__}(vocab_size={self.vocab_size}, {roles})"


def _invert_vocab(vocab: dict[str, int]) -> list[str]:
    """id -> token list; refuses vocabularies with repeated or missing ids."""
    id_to_token: list[str | None] = [None] * len(vocab)
    for token, index in vocab.items():
        if not isinstance(index, int) or not 0 <= index < len(vocab):
            raise ValueError(
                f"token {token!r} has id {index!r}, but ids must run from 0 to {len(vocab) - 1} "
                f"(one per token, no gaps); check the vocabulary file"
            )
        if id_to_token[index] is not None:
            raise ValueError(f"id {index} is given to both {id_to_token[index]!r} and {token!r}")
        id_to_token[index] = token
    return id_to_token  # type: ignore[return-value]
