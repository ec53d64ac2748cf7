"""WordPiece, the tokenizer of BERT: greedy longest-match-first over a fixed vocabulary.

After the basic pre-tokenizer has cut text into words (see
``bert_pretokenizer.py``), each word is split into vocabulary pieces:
take the *longest* prefix that is in the vocabulary, then the longest
continuation of the rest, written with a ``##`` in front so the model knows it
glues onto the previous piece::

    "unaffable" -> "una", "##ffa", "##ble"

If some part of a word matches nothing, the *whole word* becomes ``[UNK]``;
so does any word longer than ``max_input_chars_per_word`` characters (a guard
against pathological inputs such as a 10,000-character string of digits).

A sequence is framed as ``[CLS] a [SEP]``, a pair as ``[CLS] a [SEP] b [SEP]``
with ``token_type_ids`` 0 for the first part and 1 for the second.
"""

from __future__ import annotations

import json
from pathlib import Path

from minitransformers.tokenizers import bpe_files
from minitransformers.tokenizers.base import Tokenizer
from minitransformers.tokenizers.bert_pretokenizer import BertPreTokenizer

_BERT_SPECIALS = {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"}


class WordPieceTokenizer(Tokenizer):
    """BERT's tokenizer: basic pre-tokenizer + greedy longest-match-first WordPiece.

    Args:
        vocab: token -> id (``[PAD]``, ``[UNK]``, ``[CLS]``, ``[SEP]``, ``[MASK]`` must be there).
        lowercase: lower-case the text first (``True`` for uncased checkpoints).
        strip_accents: drop accents; ``None`` follows ``lowercase``.
        max_input_chars_per_word: longer words become ``[UNK]`` without being split.
        continuing_subword_prefix: marks pieces that continue a word.
    """

    def __init__(
        self,
        vocab: dict[str, int],
        lowercase: bool = True,
        strip_accents: bool | None = None,
        handle_chinese_chars: bool = True,
        clean_text: bool = True,
        max_input_chars_per_word: int = 100,
        continuing_subword_prefix: str = "##",
        special_tokens: dict[str, str] | None = None,
        padding_side: str = "right",
    ) -> None:
        special_tokens = dict(_BERT_SPECIALS if special_tokens is None else special_tokens)
        missing = [t for t in special_tokens.values() if t not in vocab]
        if missing:
            raise ValueError(
                f"the WordPiece vocabulary lacks the special token(s) {missing}; a BERT "
                f"vocab.txt must contain {list(_BERT_SPECIALS.values())} (one per line)"
            )
        super().__init__(vocab, special_tokens, padding_side=padding_side)
        self.pre_tokenizer = BertPreTokenizer(
            lowercase, strip_accents, clean_text, handle_chinese_chars
        )
        self.max_input_chars_per_word = max_input_chars_per_word
        self.prefix = continuing_subword_prefix

    # ------------------------------------------------------------------ splitting
    def split_word(self, word: str) -> list[str]:
        """One pre-tokenized word -> its WordPiece pieces (or ``["[UNK]"]``)."""
        unk = self.special_tokens["unk"]
        if len(word) > self.max_input_chars_per_word:
            return [unk]
        pieces: list[str] = []
        start = 0
        while start < len(word):
            # Try the longest candidate first and shrink it one character at a time.
            end = len(word)
            piece = None
            while end > start:
                candidate = word[start:end] if start == 0 else self.prefix + word[start:end]
                if candidate in self.vocab:
                    piece = candidate
                    break
                end -= 1
            if piece is None:
                return [unk]  # one unmatchable part spoils the whole word
            pieces.append(piece)
            start = end  # end > start, so every pass makes progress: no infinite loop
        return pieces

    def _encode_plain(self, text: str) -> list[int]:
        return [self.vocab[p] for word in self.pre_tokenizer(text) for p in self.split_word(word)]

    def _add_special_tokens(
        self, ids_a: list[int], ids_b: list[int] | None
    ) -> tuple[list[int], list[int]]:
        cls, sep = self.cls_token_id, self.sep_token_id
        ids = [cls, *ids_a, sep]
        if ids_b is None:
            return ids, [0] * len(ids)
        return ids + ids_b + [sep], [0] * len(ids) + [1] * (len(ids_b) + 1)

    def _tokens_to_text(self, tokens: list[str]) -> str:
        """Join pieces: ``##`` pieces glue to the previous one, others get a space.

        Spaces before ``. , ? !`` and in English contractions (``do n't``) are
        removed, as BERT's decoder does. Lower-casing and removed accents cannot
        be undone: decode gives back the *normalised* text.
        """
        out = []
        for i, token in enumerate(tokens):
            if i > 0:
                token = token[len(self.prefix) :] if token.startswith(self.prefix) else " " + token
            for dirty, clean in _CLEANUP:
                token = token.replace(dirty, clean)
            out.append(token)
        return "".join(out)

    # ------------------------------------------------------------------ files
    @classmethod
    def from_vocab_file(cls, path: str | Path, **kwargs) -> WordPieceTokenizer:
        """Read a BERT ``vocab.txt``: one token per line, the line number is the id.

        Raises ``ValueError`` if a token appears twice (its id would be ambiguous)
        or if the special tokens are missing.
        """
        vocab: dict[str, int] = {}
        with open(path, encoding="utf-8") as f:
            for index, line in enumerate(f):
                token = line.rstrip("\n").rstrip("\r")
                if token in vocab:
                    raise ValueError(
                        f"{path}: token {token!r} appears on line {vocab[token] + 1} and again on "
                        f"line {index + 1}; every token must appear once (remove the duplicate)"
                    )
                vocab[token] = index
        return cls(vocab, **kwargs)

    @classmethod
    def from_tokenizer_json(cls, path: str | Path) -> WordPieceTokenizer:
        """Read a Hugging Face ``tokenizer.json`` whose model is WordPiece (BERT normaliser)."""
        data = bpe_files.read_json(path)
        model = bpe_files.model_section(path, data)
        if model.get("type") != "WordPiece":
            raise ValueError(f"{path} holds a {model.get('type')} model, not WordPiece")
        norm = data.get("normalizer") or {}
        if norm and norm.get("type") != "BertNormalizer":
            raise ValueError(
                f"{path}: only the BertNormalizer is supported, found {norm.get('type')}"
            )
        vocab = model["vocab"]
        return cls(
            vocab,
            lowercase=norm.get("lowercase", True),
            strip_accents=norm.get("strip_accents"),
            handle_chinese_chars=norm.get("handle_chinese_chars", True),
            clean_text=norm.get("clean_text", True),
            max_input_chars_per_word=model.get("max_input_chars_per_word", 100),
            continuing_subword_prefix=model.get("continuing_subword_prefix", "##"),
            special_tokens={r: t for r, t in _BERT_SPECIALS.items() if t in vocab},
        )

    @classmethod
    def from_directory(cls, directory: str | Path) -> WordPieceTokenizer:
        """Load from ``tokenizer.json`` if present, else from ``vocab.txt``.

        With ``vocab.txt`` alone, ``tokenizer_config.json`` (if any) decides
        ``do_lower_case`` (default: lower-case).
        """
        directory = Path(directory)
        if (directory / "tokenizer.json").exists():
            return cls.from_tokenizer_json(directory / "tokenizer.json")
        kwargs = {}
        config = directory / "tokenizer_config.json"
        if config.exists():
            settings = json.loads(config.read_text(encoding="utf-8"))
            kwargs["lowercase"] = settings.get("do_lower_case", True)
            kwargs["strip_accents"] = settings.get("strip_accents")
        return cls.from_vocab_file(directory / "vocab.txt", **kwargs)

    def save(self, directory: str | Path) -> None:
        """Write ``vocab.txt`` (one token per line, in id order) and ``tokenizer_config.json``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "vocab.txt").write_text(
            "".join(t + "\n" for t in self.id_to_token), encoding="utf-8"
        )
        settings = {
            "do_lower_case": self.pre_tokenizer.lowercase,
            "strip_accents": self.pre_tokenizer.strip_accents,
            "tokenizer_class": "BertTokenizer",
        }
        (directory / "tokenizer_config.json").write_text(
            json.dumps(settings, indent=2), encoding="utf-8"
        )


# Applied to each decoded token (with its leading space), in this order.
_CLEANUP = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" do not", " don't"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)
