"""A second, real dataset for embedding comparisons: Shakespeare passages labelled by play.

Product reviews are easy: a review of dog food says "dog". Telling *Macbeth*
from *Hamlet* by four lines of verse is much harder: same author, same
language, few give-away words once the speaker names are gone. A model whose
embeddings still group passages by play has learned something about topic
and style.

:func:`shakespeare_passages` cuts each chosen play's spoken lines (speaker
tags, act and scene headings and stage directions removed) into runs of
``lines_per_passage`` consecutive lines and draws ``per_play`` of them with a
fixed seed, so every call gives the same passages.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_PLAYS: tuple[str, ...] = (
    "Hamlet",
    "Macbeth",
    "Romeo and Juliet",
    "A Midsummer Night's Dream",
    "Julius Caesar",
    "The Tempest",
)

_FIRST_ACT = re.compile(r"^\s*(ACT|Act|Actus)\s+(I|1|Primus)\b.*$", re.MULTILINE)
_HEADING = re.compile(r"^(ACT|SCENE|ACTUS|SCOENA|SCENA)\b", re.IGNORECASE)
# A speaker tag: a short capitalised name on its own line ("FIRST WITCH.", "Sec. Witch.", "THESEUS").
_SPEAKER = re.compile(r"^[A-Z][A-Za-z'.\-]*(\s+[A-Za-z'.\-]+){0,3}$")
_STAGE_DIRECTION = re.compile(r"\[[^\]]*\]", re.DOTALL)
_BARE_DIRECTION = re.compile(r"^(Enter|Exit|Exeunt|Re-enter)\b")


@dataclass(frozen=True)
class Passage:
    """A few consecutive spoken lines (``text``, joined by newlines) from ``play``;
    ``first_line`` is the position of its first line among that play's spoken lines."""

    text: str
    play: str
    first_line: int


def spoken_lines(play_text: str) -> list[str]:
    """The lines that characters speak, in order, from one play's cleaned text.

    Everything before the first "ACT I" heading (title, cast list) is dropped, and so
    are speaker tags, headings and stage directions. Written for the modern-spelling
    editions; the Folio *Cymbeline* keeps its speakers inline and yields no lines.
    """
    first_act = _FIRST_ACT.search(play_text)
    body = play_text[first_act.start() :] if first_act else play_text
    lines = []
    for block in re.split(r"\n\s*\n", body):
        block = _STAGE_DIRECTION.sub("", block)
        block_lines = [line.strip() for line in block.split("\n") if line.strip()]
        # A speech is a block of a speaker tag followed by what they say.
        if len(block_lines) < 2 or not _SPEAKER.match(block_lines[0]):
            continue
        if _HEADING.match(block_lines[0]):
            continue
        for line in block_lines[1:]:
            if _HEADING.match(line) or _BARE_DIRECTION.match(line) or line.startswith("["):
                continue
            if not any(char.islower() for char in line):  # a stray tag ("FIRST FAIRY"), "SONG"
                continue
            lines.append(line)
    return lines


def shakespeare_passages(
    plays: Sequence[str] = DEFAULT_PLAYS,
    per_play: int = 40,
    lines_per_passage: int = 4,
    seed: int = 0,
    min_chars: int = 80,
    works: dict[str, str] | None = None,
) -> list[Passage]:
    """``per_play`` passages of ``lines_per_passage`` lines from each of ``plays``, grouped by
    play, each play's in text order. Deterministic for a given ``seed``.

    ``works`` defaults to :func:`minitransformers.data.shakespeare.load_works` (downloaded
    once, then cached). Runs shorter than ``min_chars`` ("Ay." "No.") are never drawn.
    """
    if per_play < 1 or lines_per_passage < 1:
        raise ValueError(
            f"per_play and lines_per_passage must be at least 1, found {per_play} and "
            f"{lines_per_passage}"
        )
    if works is None:
        from minitransformers.data.shakespeare import load_works

        works = load_works()
    unknown = [play for play in plays if play not in works]
    if unknown:
        raise KeyError(f"plays {unknown} are not in the corpus; choose among {sorted(works)}")

    passages = []
    for play in plays:
        lines = spoken_lines(works[play])
        # Non-overlapping runs, so no two passages share a line.
        starts = range(0, len(lines) - lines_per_passage + 1, lines_per_passage)
        candidates = [
            start
            for start in starts
            if len(" ".join(lines[start : start + lines_per_passage])) >= min_chars
        ]
        if len(candidates) < per_play:
            raise ValueError(
                f"{play!r} has only {len(candidates)} passages of {lines_per_passage} lines "
                f"and at least {min_chars} characters, asked for {per_play}; ask for fewer"
            )
        # One generator per play, seeded from the play's name: adding a play changes no other.
        chosen = sorted(random.Random(f"{seed}:{play}").sample(candidates, per_play))
        for start in chosen:
            text = "\n".join(lines[start : start + lines_per_passage])
            passages.append(Passage(text=text, play=play, first_line=start))
    return passages
