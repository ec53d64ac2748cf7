"""How a token is shown to a reader: never as a blank.

A newline is 7% of Shakespeare's tokens and often a model's top guess; printed
as it is, it looks like no answer at all. A token made only of white space is
shown with one symbol per character (``⏎`` newline, ``␣`` space, ``⇥`` tab);
any other token without its surrounding spaces (``" king"`` -> ``"king"``).
"""

from __future__ import annotations

WHITESPACE_SYMBOLS = {"\n": "⏎", " ": "␣", "\t": "⇥", "\r": "␍"}


def readable_token(text: str) -> str:
    """``" king"`` -> ``"king"``, ``"\\n"`` -> ``"⏎"``, ``"\\n\\n"`` -> ``"⏎⏎"``, ``" "`` -> ``"␣"``."""
    if text.strip():
        return text.strip()
    return "".join(WHITESPACE_SYMBOLS.get(character, character) for character in text) or "∅"
