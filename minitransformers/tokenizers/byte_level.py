"""Bytes as printable characters, and the GPT-2 rule for cutting text into words.

Byte-level BPE works on the UTF-8 *bytes* of the text, so any string at all
(emoji, Chinese, code) can be encoded with 256 base tokens and nothing is
ever unknown. To keep tokens readable and storable in JSON, each byte is
shown as a printable character: printable ASCII and Latin-1 bytes stand for
themselves, the other 68 bytes (space, newline, control bytes...) are moved to
``chr(256 + k)``. That is why a GPT-2 token for " the" reads ``"Ġthe"``:
``Ġ`` is ``chr(256 + 32)``, the stand-in for the space byte.
"""

from __future__ import annotations

import regex

# GPT-2's pre-tokenization: English contractions, a word with its leading space,
# a number, a run of other symbols, and whitespace (a run of spaces before a word
# leaves its last space to that word). Merges never cross these boundaries.
GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)


def bytes_to_unicode() -> dict[int, str]:
    """The byte (0..255) -> printable character table of GPT-2."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return dict(sorted(table.items()))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}
# str.translate needs a table indexed by code point; bytes 0..255 are read back as Latin-1 chars.
_TRANSLATE = {b: c for b, c in BYTE_TO_CHAR.items()}


def text_to_byte_chars(text: str) -> str:
    """Text -> its UTF-8 bytes written with the printable stand-ins (``" hi"`` -> ``"Ġhi"``).

    Raises ``ValueError`` for text that is not valid Unicode (a lone surrogate
    such as ``"\\ud800"``, which can appear after decoding broken UTF-16).
    """
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(
            f"text has a lone surrogate {text[err.start]!r} at position {err.start}, which has no "
            f"UTF-8 bytes; clean it first, e.g. text.encode('utf-8', 'replace').decode('utf-8')"
        ) from None
    return raw.decode("latin-1").translate(_TRANSLATE)


def byte_chars_to_text(tokens: list[str]) -> str:
    """Printable stand-ins -> bytes -> text. Bytes that are not valid UTF-8 (e.g. half of
    an emoji) become U+FFFD "�" instead of raising, as in ``tokenizers``."""
    raw = bytearray()
    for token in tokens:
        try:
            raw.extend(CHAR_TO_BYTE[c] for c in token)
        except KeyError:  # a special token written with ordinary characters
            raw.extend(token.encode("utf-8"))
    return raw.decode("utf-8", errors="replace")
