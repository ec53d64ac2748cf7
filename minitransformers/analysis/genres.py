"""The genre of every play, as the First Folio (1623) sorts them: comedy, history or tragedy.

The Folio's editors printed the thirty-six plays in three sections, and its
catalogue names each play's section. That is a fact about the book, not our
judgement, so it makes a label no one can argue with. Two plays need a word:

* *Troilus and Cressida* is missing from the catalogue (it was added late,
  between the histories and the tragedies) but is printed as "The Tragedie
  of Troylus and Cressida", so it counts as a tragedy;
* *Cymbeline* is printed among the tragedies, the last play of the book.

*Pericles* is not in the Folio at all (it joined the collected works in
1664), so it has no Folio genre and the genre tasks leave it out.
"""

from __future__ import annotations

from collections.abc import Iterable

GENRES: tuple[str, ...] = ("comedy", "history", "tragedy")

# Titles as minitransformers.data.shakespeare spells them; the Folio's order within each section.
FOLIO_GENRES: dict[str, str] = {
    **dict.fromkeys((
        "The Tempest", "The Two Gentlemen of Verona", "The Merry Wives of Windsor", "Measure for Measure",
        "The Comedy of Errors", "Much Ado About Nothing", "Love's Labour's Lost", "A Midsummer Night's Dream",
        "The Merchant of Venice", "As You Like It", "The Taming of the Shrew", "All's Well That Ends Well",
        "Twelfth Night", "The Winter's Tale",
    ), "comedy"),
    **dict.fromkeys((
        "King John", "Richard II", "Henry IV, Part 1", "Henry IV, Part 2", "Henry V", "Henry VI, Part 1",
        "Henry VI, Part 2", "Henry VI, Part 3", "Richard III", "Henry VIII",
    ), "history"),
    **dict.fromkeys((
        "Troilus and Cressida", "Coriolanus", "Titus Andronicus", "Romeo and Juliet", "Timon of Athens",
        "Julius Caesar", "Macbeth", "Hamlet", "King Lear", "Othello", "Antony and Cleopatra", "Cymbeline",
    ), "tragedy"),
}

# Our corpus has Cymbeline only in the Folio's spelling, whose speaker names sit inside the
# lines; passages.spoken_lines finds almost no speech in it, so the genre tasks leave it out.
NO_SPOKEN_LINES: tuple[str, ...] = ("Cymbeline",)


def genre_of(play: str) -> str:
    """The Folio section of ``play``; a ``KeyError`` that names the choices for any other title."""
    if play not in FOLIO_GENRES:
        raise KeyError(f"{play!r} has no First Folio genre (Pericles and the poems are not in the Folio); "
                       f"choose among {sorted(FOLIO_GENRES)}")
    return FOLIO_GENRES[play]


def genre_plays(titles: Iterable[str]) -> list[str]:
    """The titles among ``titles`` that the genre tasks can use: in the Folio, with spoken lines."""
    return [title for title in titles if title in FOLIO_GENRES and title not in NO_SPOKEN_LINES]
