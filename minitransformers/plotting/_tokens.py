"""Tokens as a reader sees them on a figure: no invisible characters, no tokenizer markers.

A newline token drawn as itself is a blank label, and so is a lone space:
the reader cannot tell which position it is. So every label goes through
``readable_token``: a newline becomes ``⏎``, a lone space ``␣``, a tab
``⇥``, and byte-level BPE's markers (``Ġ`` for a space, ``Ċ`` for a newline)
are read the same way. ``describe_input`` writes the tokens of a figure's
input on one line, for its title.
"""

from __future__ import annotations

from collections.abc import Sequence

NEWLINE, SPACE, TAB = "⏎", "␣", "⇥"

# Byte-level BPE (GPT-2) writes a space as "Ġ", a newline as "Ċ" and a tab as "ĉ" inside its tokens;
# "↵" is how ``tokenizer.display_tokens`` wrote a newline before the figures settled on "⏎".
_MARKS = {"Ġ": SPACE, "Ċ": NEWLINE, "ĉ": TAB, "↵": NEWLINE, "\n": NEWLINE, "\r": "", "\t": TAB}
INPUT_CHARACTERS = 90  # characters of the input written in a title; longer inputs end with "…"


def readable_token(token: str) -> str:
    """A label a reader can read.

    ``"Ġking"`` -> ``"king"`` (a word's leading space is dropped, as
    ``tokenizer.display_tokens`` does), ``"Ġ"`` or ``" "`` -> ``"␣"``,
    ``"Ċ"`` or ``"\\n"`` -> ``"⏎"``, ``"ĊĊ"`` -> ``"⏎⏎"``; other tokens unchanged.
    """
    token = str(token)
    if token.startswith("Ġ") and len(token) > 1 and token[1] not in _MARKS:
        token = token[1:]
    for mark, shown in _MARKS.items():
        token = token.replace(mark, shown)
    if token.strip(" ") == "":  # only spaces (or nothing): one ␣ per space, never a blank label
        return SPACE * max(1, len(token))
    return token


def check_tokens(tokens: Sequence[str] | None, n: int, what: str) -> list[str]:
    """Readable tokens (``readable_token``), one per position; positions get their index when ``tokens`` is None."""
    if tokens is None:
        return [str(i) for i in range(n)]
    if isinstance(tokens, str):
        raise TypeError(f"{what} must be a list of tokens, got the string {tokens[:30]!r}; "
                        f"split it first, e.g. tokenizer.display_tokens(ids)")
    tokens = [readable_token(token) for token in tokens]
    if len(tokens) != n:
        raise ValueError(f"got {len(tokens)} {what} for {n} positions; pass one token per position")
    return tokens


def describe_input(tokens: Sequence[str] | None, n: int | None = None) -> str | None:
    """``'input, 6 tokens: the cat sat on the mat'`` for a title, or None without tokens.

    The tokens are written as the model read them, one space apart, so that
    the title shows the tokenization too (``to ##ken``, ``<cls>``, ``⏎``).
    """
    if tokens is None:
        return None
    shown = " ".join(readable_token(token) for token in tokens)
    if len(shown) > INPUT_CHARACTERS:
        shown = shown[: INPUT_CHARACTERS - 1] + "…"
    n = len(tokens) if n is None else n
    return f"input, {n} tokens: {shown}"


def short_label(token: str, limit: int = 10) -> str:
    """A token cut to ``limit`` characters (with "…"), so one long token cannot widen every panel."""
    return token if len(token) <= limit else token[: limit - 1] + "…"
