"""Byte-level BPE, the tokenizer of GPT-2: merge frequent byte pairs, in the order learned.

Encoding a text:

1. cut it into words with GPT-2's pattern (``" the"``, ``" cat"``, ``"'s"``, ``"!!"``);
2. write each word as its UTF-8 bytes, one printable character per byte
   (``byte_level.py``): ``" the"`` -> ``["Ġ", "t", "h", "e"]``;
3. repeatedly merge the adjacent pair that was learned *earliest* (lowest
   rank in ``merges.txt``) until no learned pair is left:
   ``t h`` -> ``th``, ``Ġ th`` -> ``Ġth``, ``Ġth e`` -> ``Ġthe``;
4. look the pieces up in the vocabulary.

Step 3 is the slow part. Rescanning the whole word for its best pair after
every merge costs ``n`` per merge, ``n²`` per word: a 10,000-letter word
without spaces took seconds. So the candidate pairs wait in a *heap* ordered
by (rank, position), and the pieces form a linked list (``bpe_merge.py``):
each merge touches only its two neighbours, ``n log n`` in all, as in
Hugging Face ``tokenizers``. The same words come back again and again, so
the result is also remembered per word (``cache``). Decoding joins the pieces, turns
the characters back into bytes and reads them as UTF-8, so
``decode(encode(s)) == s`` for every string ``s``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from minitransformers.tokenizers import bpe_files
from minitransformers.tokenizers.bpe_merge import merge_by_rank
from minitransformers.tokenizers.base import Tokenizer
from minitransformers.tokenizers.byte_level import (
    GPT2_PATTERN,
    byte_chars_to_text,
    text_to_byte_chars,
)
from minitransformers.tokenizers.readable import readable_token

ENDOFTEXT = "<|endoftext|>"
_SURROGATE = re.compile("[\ud800-\udfff]")


class ByteLevelBPETokenizer(Tokenizer):
    """GPT-2 style tokenizer: byte-level alphabet, GPT-2 pre-tokenization, ranked merges.

    Args:
        vocab: token -> id, ids ``0 .. n-1``.
        merges: ``(left, right)`` pairs in the order they were learned.
        special_tokens: role -> token. By default ``<|endoftext|>`` (if in the
            vocabulary) is both ``eos`` and ``bos``, as in GPT-2. For batches, give a
            ``pad`` token, e.g. ``{"eos": "<|endoftext|>", "pad": "<|endoftext|>"}``.
        extra_special_tokens: more tokens matched whole in the text, with no role.
        add_prefix_space: put a space before the text, so the first word is
            encoded like every other word (``"Ġhello"`` instead of ``"hello"``).
        padding_side: ``"right"``, or ``"left"`` for batched generation.
        frame: ``"none"`` adds no special tokens (GPT-2); ``"bert"`` frames texts as
            ``cls A sep [B sep]`` with segment ids, for a BERT trained on this vocabulary.

        lstrip_tokens: special tokens that swallow the whitespace before them
            (default: the mask token). Written as ``"lstrip": true`` in ``tokenizer.json``,
            so Hugging Face ``tokenizers`` splits texts exactly as this class does.

    As in RoBERTa, the mask token swallows the space before it: in ``"the <mask>."``
    the mask stands for a whole word such as ``"Ġquestion"``, which is how masked
    training examples look, instead of leaving a stray ``"Ġ"`` token in front of it.
    Decoding gives that space back: ``"the <mask>."`` round-trips.
    """

    def __init__(
        self,
        vocab: dict[str, int],
        merges: Sequence[tuple[str, str]],
        special_tokens: dict[str, str] | None = None,
        extra_special_tokens: Sequence[str] = (),
        add_prefix_space: bool = False,
        ignore_merges: bool = False,
        padding_side: str = "right",
        frame: str = "none",
        lstrip_tokens: Sequence[str] | None = None,
    ) -> None:
        if special_tokens is None:
            special_tokens = {"bos": ENDOFTEXT, "eos": ENDOFTEXT} if ENDOFTEXT in vocab else {}
        super().__init__(vocab, special_tokens, extra_special_tokens, padding_side)
        self.merges = [tuple(m) for m in merges]
        bpe_files.check_merges(self.vocab, self.merges)
        # rank of a pair = when it was learned; lower ranks are merged first.
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self.add_prefix_space = add_prefix_space
        self.ignore_merges = ignore_merges
        if frame not in ("none", "bert"):
            raise ValueError(f"frame must be 'none' or 'bert', got {frame!r}")
        if frame == "bert" and (self.cls_token_id is None or self.sep_token_id is None):
            raise ValueError("frame='bert' needs 'cls' and 'sep' special tokens")
        self.frame = frame
        if lstrip_tokens is None:
            lstrip_tokens = [self.special_tokens["mask"]] if "mask" in self.special_tokens else []
        unknown = [t for t in lstrip_tokens if t not in self.all_special_tokens]
        if unknown:
            raise ValueError(f"lstrip_tokens {unknown} are not special tokens of this tokenizer")
        self.lstrip_tokens = frozenset(lstrip_tokens)
        self.cache: dict[str, list[int]] = {}  # word -> ids; see the module docstring

    # ------------------------------------------------------------------ the algorithm
    def bpe(self, word: str) -> list[str]:
        """Split one word, already in byte characters (``"Ġthe"``), into BPE pieces."""
        if self.ignore_merges and word in self.vocab:
            return [word]
        return merge_by_rank(list(word), self.ranks)

    def _word_ids(self, word: str) -> list[int]:
        """Ids of one pre-tokenized word (raw text), computed once and then cached."""
        ids = self.cache.get(word)
        if ids is None:
            pieces = self.bpe(text_to_byte_chars(word))
            missing = [p for p in pieces if p not in self.vocab]
            if missing:
                raise ValueError(
                    f"byte(s) {missing} of {word!r} have no token in this vocabulary; train it "
                    f"with all 256 bytes in the alphabet (the trainer does this by default)"
                )
            ids = [self.vocab[p] for p in pieces]
            if len(self.cache) < 1_000_000:  # bound the memory a long random text can take
                self.cache[word] = ids
        return ids

    def pre_tokenize(self, text: str) -> list[str]:
        """Cut text into the words BPE works on (GPT-2's regular expression)."""
        if self.add_prefix_space and not text.startswith(" "):
            text = " " + text
        return GPT2_PATTERN.findall(text)

    def encode_ordinary(self, text: str) -> list[int]:
        """Ids of the text alone (see ``Tokenizer.encode_ordinary``).

        Raises ``ValueError`` for a lone surrogate such as ``"\\ud800"``: it has no
        UTF-8 bytes, so byte-level BPE cannot represent it.
        """
        surrogate = _SURROGATE.search(text) if isinstance(text, str) else None
        if surrogate:
            # Checked on the whole text so the position in the message is the user's position.
            text_to_byte_chars(text)
        return super().encode_ordinary(text)

    def split_on_special_tokens(self, text: str) -> list[tuple[str, bool]]:
        """Like the base class, but the whitespace just before an ``lstrip`` token (the mask)
        belongs to that token, as ``"lstrip": true`` means in ``tokenizers``."""
        pieces = super().split_on_special_tokens(text)
        if not self.lstrip_tokens:
            return pieces
        for i in range(len(pieces) - 1):
            piece, is_special = pieces[i]
            following, following_is_special = pieces[i + 1]
            if not is_special and following_is_special and following in self.lstrip_tokens:
                pieces[i] = (piece.rstrip(), False)
        return [(piece, is_special) for piece, is_special in pieces if piece]

    def _add_special_tokens(
        self, ids_a: list[int], ids_b: list[int] | None
    ) -> tuple[list[int], list[int]]:
        if self.frame == "none":
            return super()._add_special_tokens(ids_a, ids_b)
        cls, sep = self.cls_token_id, self.sep_token_id
        ids = [cls, *ids_a, sep]
        if ids_b is None:
            return ids, [0] * len(ids)
        return ids + ids_b + [sep], [0] * len(ids) + [1] * (len(ids_b) + 1)

    def _encode_plain(self, text: str) -> list[int]:
        ids: list[int] = []
        for word in self.pre_tokenize(text):
            ids.extend(self._word_ids(word))
        return ids

    def display_tokens(self, ids: Sequence[int]) -> list[str]:
        """Readable labels: each token's own text (``"Ġking"`` -> ``"king"``), ``"␣"`` for a bare
        space, ``"⏎"`` for a newline (:func:`readable_token`); special tokens as they are."""
        labels = []
        for token in self.convert_ids_to_tokens(ids):
            if token in self.all_special_tokens:
                labels.append(token)
                continue
            text = byte_chars_to_text([token])
            labels.append(readable_token(text))
        return labels

    def _tokens_to_text(self, tokens: list[str]) -> str:
        """Pieces -> bytes -> UTF-8 text; invalid byte sequences become "�" (U+FFFD).

        An ``lstrip`` token (the mask) took the space before it when encoding, so
        decoding puts one back after a word: ``"the <mask>."`` round-trips.
        """
        text, run = "", []
        for token in tokens:
            if token in self.lstrip_tokens:
                text += byte_chars_to_text(run)
                run = []
                text += (" " if text and not text[-1].isspace() else "") + token
            else:
                run.append(token)
        return text + byte_chars_to_text(run)

    # ------------------------------------------------------------------ files
    @classmethod
    def from_files(
        cls, vocab_path: str | Path, merges_path: str | Path, **kwargs
    ) -> ByteLevelBPETokenizer:
        """Load GPT-2's ``vocab.json`` and ``merges.txt``."""
        return cls(
            bpe_files.read_vocab_json(vocab_path), bpe_files.read_merges_txt(merges_path), **kwargs
        )

    @classmethod
    def from_tokenizer_json(cls, path: str | Path, **kwargs) -> ByteLevelBPETokenizer:
        """Load a Hugging Face ``tokenizer.json`` with a BPE model."""
        vocab, merges, specials, settings = bpe_files.read_tokenizer_json_bpe(path)
        kwargs.setdefault("extra_special_tokens", specials)
        return cls(vocab, merges, **{**settings, **kwargs})

    @classmethod
    def from_directory(cls, directory: str | Path) -> ByteLevelBPETokenizer:
        """Load what ``save`` wrote, a ``tokenizer.json``, or GPT-2's ``vocab.json`` + ``merges.txt``."""
        directory = Path(directory)
        kwargs = {}
        config = directory / "tokenizer_config.json"
        if config.exists():
            settings = json.loads(config.read_text(encoding="utf-8"))
            kwargs = {
                k: settings[k]
                for k in (
                    "special_tokens",
                    "extra_special_tokens",
                    "add_prefix_space",
                    "padding_side",
                    "frame",
                    "lstrip_tokens",
                )
                if k in settings
            }
        if (directory / "vocab.json").exists() and (directory / "merges.txt").exists():
            return cls.from_files(directory / "vocab.json", directory / "merges.txt", **kwargs)
        if (directory / "tokenizer.json").exists():
            return cls.from_tokenizer_json(directory / "tokenizer.json", **kwargs)
        raise FileNotFoundError(
            f"{directory} has neither vocab.json + merges.txt nor tokenizer.json"
        )

    def save(self, directory: str | Path) -> None:
        """Write ``vocab.json``, ``merges.txt``, ``tokenizer.json`` (readable by Hugging Face
        ``tokenizers``) and ``tokenizer_config.json`` (special-token roles, padding side)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        bpe_files.write_vocab_and_merges(directory, self.vocab, self.merges)
        bpe_files.write_tokenizer_json_bpe(
            directory / "tokenizer.json",
            self.vocab,
            self.merges,
            self.all_special_tokens,
            self.add_prefix_space,
            self.lstrip_tokens,
        )
        roles = set(self.special_tokens.values())
        settings = {
            "tokenizer_class": "ByteLevelBPETokenizer",
            "special_tokens": self.special_tokens,
            "extra_special_tokens": [t for t in self.all_special_tokens if t not in roles],
            "add_prefix_space": self.add_prefix_space,
            "padding_side": self.padding_side,
            "frame": self.frame,
            "lstrip_tokens": sorted(self.lstrip_tokens),
        }
        (directory / "tokenizer_config.json").write_text(
            json.dumps(settings, indent=2), encoding="utf-8"
        )
