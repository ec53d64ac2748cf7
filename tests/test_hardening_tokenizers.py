"""Hardening of the tokenizers (issue 20, items 6, 7, 16): the mask's lstrip as one truth with the
``tokenizer.json`` we write, BPE in ``n log n`` with unchanged ids, and clear file errors."""

from __future__ import annotations

import itertools
import json
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer as HFTokenizer

from minitransformers.tokenizers import load_tokenizer
from minitransformers.tokenizers.byte_level import text_to_byte_chars

SHIPPED = Path(__file__).parents[1] / "weights" / "mini-bert-shakespeare"
MASK_TEXTS = ["the <mask>.", "the  <mask>.", "the\n<mask>.", "<mask> the", " <mask>", "a<mask>b",
              "the \t <mask> x", "To be, or not to be: that is the <mask>.", "<mask><mask> <mask>"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The shipped BERT tokenizer, saved again by this version of the library."""
    folder = tmp_path_factory.mktemp("tok")
    load_tokenizer(SHIPPED).save(folder)
    return load_tokenizer(folder), HFTokenizer.from_file(str(folder / "tokenizer.json")), folder


@pytest.mark.parametrize("text", MASK_TEXTS)
def test_mask_ids_match_tokenizers_on_the_file_we_write(saved, text):
    ours, theirs, _ = saved
    assert ours.encode_ordinary(text) == theirs.encode(text, add_special_tokens=False).ids


def test_the_written_file_says_lstrip_for_the_mask_only(saved):
    ours, _, folder = saved
    flags = {t["content"]: t["lstrip"] for t in json.loads((folder / "tokenizer.json").read_text())["added_tokens"]}
    assert flags.pop("<mask>") is True and not any(flags.values())
    assert ours.tokenize("the <mask>.") == ["the", "<mask>", "."]


def test_lstrip_is_read_back_from_a_tokenizer_json_alone(saved, tmp_path):
    _, theirs, folder = saved
    shutil.copy(folder / "tokenizer.json", tmp_path / "tokenizer.json")
    alone = load_tokenizer(tmp_path)
    assert alone.lstrip_tokens == {"<mask>"}
    for text in MASK_TEXTS:
        assert alone.encode_ordinary(text) == theirs.encode(text, add_special_tokens=False).ids


@pytest.mark.parametrize("text", ["the <mask>.", "<mask> is here", "a <mask> and a <mask>"])
def test_decoding_a_mask_gives_its_space_back(saved, text):
    ours, _, _ = saved
    assert ours.decode(ours.encode_ordinary(text)) == text


def _textbook_bpe(pieces: list[str], ranks: dict) -> list[str]:
    """The quadratic reference: merge the best-ranked pair everywhere, rescan, repeat."""
    while len(pieces) > 1:
        best = min(itertools.pairwise(pieces), key=lambda pair: ranks.get(pair, float("inf")))
        if best not in ranks:
            break
        merged, i = [], 0
        while i < len(pieces):
            if i + 1 < len(pieces) and (pieces[i], pieces[i + 1]) == best:
                merged.append(pieces[i] + pieces[i + 1])
                i += 2
            else:
                merged.append(pieces[i])
                i += 1
        pieces = merged
    return pieces


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="thequickbrownfoxjumps ',\n", min_size=1, max_size=60))
def test_heap_merges_equal_the_textbook_loop(saved, word):
    ours, _, _ = saved
    chars = text_to_byte_chars(word)
    assert ours.bpe(chars) == _textbook_bpe(list(chars), ours.ranks)


def _long_words() -> list[str]:
    rng = random.Random(0)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    return ["a" * 10_000, "ab" * 5_000, "the" * 4_000,
            "".join(rng.choice(letters) for _ in range(20_000)),
            "".join(rng.choice("thereis") for _ in range(30_000)),
            " " + "".join(rng.choice(letters[:6]) for _ in range(10_000))]


@pytest.mark.parametrize("word", _long_words(), ids=lambda w: f"{w[:4]}...x{len(w)}")
def test_long_words_match_tokenizers(saved, word):
    ours, theirs, _ = saved
    ours.cache.clear()
    assert ours.encode_ordinary(word) == theirs.encode(word, add_special_tokens=False).ids


@pytest.mark.parametrize("make, words", [
    (lambda d: (d / "tokenizer.json").mkdir(), "is a folder"),
    (lambda d: (d / "tokenizer.json").write_text('{"model": {"type": "BPE"}}'), "no model vocabulary"),
    (lambda d: (d / "tokenizer.json").write_text("[1, 2]"), "JSON object"),
    (lambda d: (d / "tokenizer.json").write_text('{"model": '), "not valid JSON"),
    (lambda d: (d / "vocab.txt").mkdir(), "vocab.txt"),
])
def test_broken_tokenizer_files_are_one_clear_value_error(tmp_path, make, words):
    make(tmp_path)
    with pytest.raises(ValueError, match=words):
        load_tokenizer(tmp_path)


def test_an_unreadable_tokenizer_json_says_permission(tmp_path):
    # Root reads any file, so the load runs in a child that drops to `nobody` first.
    import os
    import subprocess
    import sys
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="mt-tok-"))
    try:
        folder.chmod(0o755)
        shutil.copy(SHIPPED / "tokenizer.json", folder / "tokenizer.json")
        (folder / "tokenizer.json").chmod(0o000)
        code = ("import os, sys\nfrom minitransformers.tokenizers import load_tokenizer\n"
                "if os.geteuid() == 0:\n    os.setgid(65534); os.setuid(65534)\n"
                "try:\n    load_tokenizer(sys.argv[1])\nexcept ValueError as error:\n    print(error)\n")
        out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                             cwd=Path(__file__).parents[1], timeout=120, env=dict(os.environ))
        assert "no permission to read" in out.stdout, out.stdout + out.stderr
    finally:
        (folder / "tokenizer.json").chmod(0o644)
        shutil.rmtree(folder)
