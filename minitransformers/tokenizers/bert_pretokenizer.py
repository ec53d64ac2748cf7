"""BERT's basic pre-tokenizer: clean the text, then cut it into words and punctuation.

Before WordPiece looks at the vocabulary, BERT turns raw text into a list of
"words":

1. **clean**: drop control and format characters (they carry no meaning and
   would otherwise become [UNK]), turn every kind of whitespace into " ".
2. **CJK**: put spaces around every Chinese/Japanese/Korean ideograph, so each
   one is a word of its own (these scripts do not separate words by spaces).
3. **accents** (optional, on for uncased models): decompose "é" into "e" + a
   combining accent (Unicode NFD), then drop the accent.
4. **lower-case** (optional).
5. **split** on whitespace, and make every punctuation character its own word.

``"Héllo, 世界!"`` -> ``["hello", ",", "世", "界", "!"]``.

Unicode classes come from Python's ``unicodedata``. The Rust ``tokenizers``
library uses older Unicode tables, so a few characters added to Unicode after
2016 may be classified differently there.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Unicode's White_Space property (what Rust's char::is_whitespace uses). Python's
# str.isspace() also accepts U+001C..U+001F, which BERT treats as control characters.
_WHITESPACE = frozenset(
    map(
        chr,
        [
            0x9,
            0xA,
            0xB,
            0xC,
            0xD,
            0x20,
            0x85,
            0xA0,
            0x1680,
            *range(0x2000, 0x200B),
            0x2028,
            0x2029,
            0x202F,
            0x205F,
            0x3000,
        ],
    )
)

# CJK Unified Ideographs blocks (the "Chinese characters" of the BERT paper). Japanese
# kana and Korean hangul are not here: they are split like any other letters.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def is_whitespace(char: str) -> bool:
    """True for spaces, tabs, newlines and other Unicode white space."""
    return char in _WHITESPACE


def is_control(char: str) -> bool:
    """True for control/format/private-use characters (and lone surrogates), which BERT deletes.

    Tab, newline and carriage return count as whitespace, not control.
    """
    if char in "\t\n\r":
        return False
    # Cc control, Cf format (e.g. zero-width joiner), Co private use, Cs lone surrogate.
    # Cn (unassigned) is kept, as the reference implementation does.
    return unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs")


def is_punctuation(char: str) -> bool:
    """True for Unicode punctuation and for every ASCII symbol such as "$", "+", "^", "`".

    BERT counts all non-alphanumeric ASCII as punctuation, even the ones Unicode
    calls symbols, so "$5" splits into "$", "5".
    """
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_cjk(char: str) -> bool:
    """True for a CJK ideograph (each becomes a word of its own)."""
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


@dataclass
class BertPreTokenizer:
    """Normalise text and split it into words, as BERT does before WordPiece.

    Attributes:
        lowercase: lower-case everything (uncased checkpoints).
        strip_accents: remove accents; ``None`` means "same as lowercase",
            which is what uncased BERT checkpoints do.
        clean_text: delete control characters and unify whitespace.
        handle_chinese_chars: make every CJK ideograph its own word.
    """

    lowercase: bool = True
    strip_accents: bool | None = None
    clean_text: bool = True
    handle_chinese_chars: bool = True

    def normalize(self, text: str) -> str:
        """Steps 1-4: the cleaned, (lower-cased, accent-free) text, still one string."""
        if self.clean_text:
            text = "".join(
                " " if is_whitespace(c) else c
                for c in text
                if not (c == "\0" or c == "\ufffd" or is_control(c))
            )
        if self.handle_chinese_chars:
            text = "".join(f" {c} " if is_cjk(c) else c for c in text)
        strip = self.lowercase if self.strip_accents is None else self.strip_accents
        if strip:
            # NFD writes "é" as "e" + U+0301; the combining mark (category Mn) is dropped.
            text = "".join(
                c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn"
            )
        if self.lowercase:
            # Character by character on purpose: str.lower() on a whole string turns a
            # word-final "Σ" into "ς", which the reference implementation does not do.
            text = "".join(c.lower() for c in text)
        return text

    def split(self, text: str) -> list[str]:
        """Step 5: cut normalised text at whitespace; each punctuation mark is its own word."""
        words: list[str] = []
        current: list[str] = []
        for char in text:
            if is_whitespace(char) or is_punctuation(char):
                if current:
                    words.append("".join(current))
                    current = []
                if not is_whitespace(char):
                    words.append(char)
            else:
                current.append(char)
        if current:
            words.append("".join(current))
        return words

    def __call__(self, text: str) -> list[str]:
        """Raw text -> list of words, e.g. ``"Héllo, 世界!"`` -> ``["hello", ",", "世", "界", "!"]``."""
        return self.split(self.normalize(text))
