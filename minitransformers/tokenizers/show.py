"""``encode_and_show``: print, step by step, how a tokenizer splits a text.

For byte-level BPE you see each word's bytes and every merge applied, in
rank order; for WordPiece you see the cleaned words and each longest match;
for the character tokenizer, each character and its id. Meant for the
classroom::

    >>> encode_and_show(gpt_tokenizer, "lowest")
    word 'lowest' -> bytes l o w e s t
      merge #12  (o, w)   -> l ow e s t
      ...
"""

from __future__ import annotations

import itertools
import sys
from typing import TextIO

from minitransformers.tokenizers.base import Tokenizer
from minitransformers.tokenizers.byte_level import text_to_byte_chars
from minitransformers.tokenizers.byte_level_bpe import ByteLevelBPETokenizer
from minitransformers.tokenizers.wordpiece import WordPieceTokenizer


def bpe_merge_steps(
    tokenizer: ByteLevelBPETokenizer, word: str
) -> list[tuple[int | None, list[str]]]:
    """The pieces of one raw word after each merge: ``[(None, bytes), (rank, pieces), ...]``.

    Follows the same rule as ``tokenizer.bpe``: always the lowest-rank pair next.
    """
    pieces = list(text_to_byte_chars(word))
    steps: list[tuple[int | None, list[str]]] = [(None, pieces)]
    while len(pieces) > 1:
        ranked = [
            (tokenizer.ranks[p], p) for p in itertools.pairwise(pieces) if p in tokenizer.ranks
        ]
        if not ranked:
            break
        rank, (left, right) = min(ranked)
        merged, i = [], 0
        while i < len(pieces):
            if i + 1 < len(pieces) and pieces[i] == left and pieces[i + 1] == right:
                merged.append(left + right)
                i += 2
            else:
                merged.append(pieces[i])
                i += 1
        pieces = merged
        steps.append((rank, pieces))
    return steps


def wordpiece_match_steps(tokenizer: WordPieceTokenizer, word: str) -> list[tuple[str, int]]:
    """Each greedy match of one word: ``[(piece, number of longer candidates tried first), ...]``.

    An ``[UNK]`` result is a single step ``("[UNK]", 0)``.
    """
    pieces = tokenizer.split_word(word)
    if pieces == [tokenizer.special_tokens["unk"]]:
        return [(pieces[0], 0)]
    steps, start = [], 0
    for piece in pieces:
        length = len(piece) - (len(tokenizer.prefix) if start > 0 else 0)
        steps.append((piece, len(word) - start - length))  # candidates that were longer
        start += length
    return steps


def encode_and_show(tokenizer: Tokenizer, text: str, file: TextIO | None = None) -> list[int]:
    """Print how ``text`` is split, step by step, and return its ids (no special tokens added)."""
    out = file or sys.stdout
    if isinstance(tokenizer, ByteLevelBPETokenizer):
        for word in tokenizer.pre_tokenize(text):
            steps = bpe_merge_steps(tokenizer, word)
            print(f"word {word!r} -> bytes {' '.join(steps[0][1])}", file=out)
            previous = steps[0][1]
            for rank, pieces in steps[1:]:
                pair = _merged_pair(previous, pieces)
                print(f"  merge #{rank:<5} {pair!s:<18} -> {' '.join(pieces)}", file=out)
                previous = pieces
    elif isinstance(tokenizer, WordPieceTokenizer):
        cleaned = tokenizer.pre_tokenizer.normalize(text)
        print(f"cleaned text: {cleaned!r}", file=out)
        for word in tokenizer.pre_tokenizer.split(cleaned):
            matches = ", ".join(
                f"{p!r} (after {n} longer tries)" for p, n in wordpiece_match_steps(tokenizer, word)
            )
            print(f"word {word!r} -> {matches}", file=out)
    ids = tokenizer.encode(text, add_special_tokens=False)
    tokens = tokenizer.convert_ids_to_tokens(ids)
    print("tokens:", " | ".join(tokens), file=out)
    print("ids:   ", ids, file=out)
    return ids


def _merged_pair(before: list[str], after: list[str]) -> tuple[str, str]:
    """Which pair of ``before`` became one piece of ``after`` (for printing)."""
    for i, piece in enumerate(after):
        if i >= len(before) or piece != before[i]:
            return before[i], before[i + 1]
    return before[-2], before[-1]
