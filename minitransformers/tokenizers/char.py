"""The character tokenizer: one token per character, for the smallest experiments.

The vocabulary is simply the set of characters in a training text (sorted, so
the same text always gives the same ids), plus optional special tokens first.
It is the tokenizer of Karpathy-style "tiny Shakespeare" models: about 65
tokens, nothing to learn, and every id is a letter a student can read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from minitransformers.tokenizers.base import Tokenizer

VOCAB_FILE = "char_vocab.json"


class CharTokenizer(Tokenizer):
    """One id per character.

    Args:
        chars: the characters, in id order (after the special tokens).
        special_tokens: role -> token, e.g. ``{"pad": "<pad>", "unk": "<unk>"}``;
            these get the first ids.
        padding_side: ``"right"`` or ``"left"``.

    A character that is not in the vocabulary becomes the ``unk`` token if
    there is one, else ``encode`` raises ``ValueError`` naming the character.
    """

    def __init__(
        self,
        chars: Sequence[str],
        special_tokens: dict[str, str] | None = None,
        padding_side: str = "right",
    ) -> None:
        specials = list(dict.fromkeys((special_tokens or {}).values()))
        for c in chars:
            if len(c) != 1:
                raise ValueError(f"every vocabulary entry must be one character, got {c!r}")
        if len(set(chars)) != len(chars):
            duplicates = sorted({c for c in chars if list(chars).count(c) > 1})
            raise ValueError(f"characters listed twice in the vocabulary: {duplicates}")
        clash = [s for s in specials if s in chars]
        if clash:
            raise ValueError(
                f"special tokens {clash} are also ordinary characters; use longer names"
            )
        vocab = {token: i for i, token in enumerate(specials + list(chars))}
        super().__init__(vocab, special_tokens or {}, padding_side=padding_side)
        self.chars = list(chars)

    @classmethod
    def from_text(cls, text: str, special_tokens: dict[str, str] | None = None) -> CharTokenizer:
        """Build the vocabulary from every distinct character of ``text`` (sorted)."""
        if not text:
            raise ValueError("cannot build a character vocabulary from an empty text")
        return cls(sorted(set(text)), special_tokens)

    def _encode_plain(self, text: str) -> list[int]:
        unk = self.unk_token_id
        ids = []
        for position, char in enumerate(text):
            index = self.vocab.get(char, unk)
            if index is None:
                raise ValueError(
                    f"character {char!r} at position {position} is not in the vocabulary; build the "
                    f"tokenizer from a text that contains it, or give it an 'unk' special token"
                )
            ids.append(index)
        return ids

    def _tokens_to_text(self, tokens: list[str]) -> str:
        return "".join(tokens)

    def save(self, directory: str | Path) -> None:
        """Write ``char_vocab.json``: the characters and special tokens."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        data = {
            "tokenizer_class": "CharTokenizer",
            "chars": self.chars,
            "special_tokens": self.special_tokens,
            "padding_side": self.padding_side,
        }
        (directory / VOCAB_FILE).write_text(
            json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8"
        )

    @classmethod
    def from_directory(cls, directory: str | Path) -> CharTokenizer:
        """Read ``char_vocab.json`` written by :meth:`save`."""
        data = json.loads((Path(directory) / VOCAB_FILE).read_text(encoding="utf-8"))
        return cls(data["chars"], data.get("special_tokens"), data.get("padding_side", "right"))
