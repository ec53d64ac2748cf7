"""Byte-level BPE against Hugging Face ``tokenizers``: loading its vocabularies, and training our own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import ByteLevelBPETokenizer as HFByteLevelBPE
from tokenizers import Tokenizer as HFTokenizer

from minitransformers.tokenizers import (
    ByteLevelBPETokenizer,
    encode_and_show,
    load_tokenizer,
    train_bpe,
)
from minitransformers.tokenizers.byte_level import BYTE_TO_CHAR

TRICKY = [
    "",
    " ",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\n\n\n",
    "it's we'll they'd I'M",
    "numbers 1234567 and 3.14159, 1e-9",
    "emoji 🙂👍🏽🇫🇷 and 👩‍👩‍👧",
    "中文和日本語のテキスト",
    "Ünïcödé áccents",
    "a<|endoftext|>b",
    "<|endoftext|><|endoftext|>",
    "    four spaces before",
    "symbols !!! ??? ... --- ***",
    "\x00\x01 control \x7f bytes",
    "ends with space ",
]


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[str]]:
    """(training lines, held-out lines): different plays, lines keep their newline."""
    from minitransformers.data.shakespeare import load_works

    works = list(load_works().values())
    train = "".join(works[:2]).splitlines(keepends=True)
    held_out = works[-1].splitlines(keepends=True)[:3000]
    return train, held_out


@pytest.fixture(scope="module")
def hf_trained(corpus, tmp_path_factory) -> tuple[HFByteLevelBPE, Path]:
    train, _ = corpus
    hf = HFByteLevelBPE()
    hf.train_from_iterator(
        train,
        vocab_size=1500,
        min_frequency=2,
        special_tokens=["<|endoftext|>"],
        show_progress=False,
    )
    folder = tmp_path_factory.mktemp("hf_bpe")
    hf.save_model(str(folder))  # vocab.json + merges.txt
    hf._tokenizer.save(str(folder / "hf_tokenizer.json"))
    return hf, folder


@pytest.fixture(scope="module")
def ours_trained(corpus) -> ByteLevelBPETokenizer:
    train, _ = corpus
    return train_bpe(train, vocab_size=1500, special_tokens=["<|endoftext|>"], show_progress=False)


def test_loaded_vocab_gives_identical_ids_on_held_out_text(hf_trained, corpus):
    hf, folder = hf_trained
    _, held_out = corpus
    ours = ByteLevelBPETokenizer.from_files(
        folder / "vocab.json", folder / "merges.txt", extra_special_tokens=["<|endoftext|>"]
    )
    from_json = ByteLevelBPETokenizer.from_tokenizer_json(folder / "hf_tokenizer.json")
    for text in held_out + TRICKY + ["".join(held_out)]:
        reference = hf.encode(text).ids
        assert ours.encode(text) == reference, text
        assert from_json.encode(text) == reference, text
        assert ours.decode(reference) == hf.decode(reference, skip_special_tokens=False) == text


def test_trainer_learns_the_same_merges_as_tokenizers(hf_trained, ours_trained):
    hf, _ = hf_trained
    reference = json.loads(hf._tokenizer.to_str())["model"]
    hf_merges = [
        tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in reference["merges"]
    ]
    # Same counts and the same tie-breaking: the very same merges, in the same order.
    assert ours_trained.merges[:200] == hf_merges[:200]
    assert ours_trained.merges == hf_merges
    assert ours_trained.vocab == reference["vocab"]


def test_trained_vocab_is_sensible(ours_trained):
    assert ours_trained.vocab_size == 1500
    assert ours_trained.vocab["<|endoftext|>"] == 0 == ours_trained.eos_token_id
    assert all(c in ours_trained.vocab for c in BYTE_TO_CHAR.values())
    # Frequent English words become single tokens after a thousand merges.
    for word in [" the", " and", " to", " of", " my"]:
        assert len(ours_trained.encode(word)) == 1, word
    assert ours_trained.tokenize(" the") == ["Ġthe"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_trained_tokenizer_round_trips_any_string(ours_trained, text):
    assert ours_trained.decode(ours_trained.encode(text)) == text


def test_save_load_round_trip_and_hf_can_read_our_files(ours_trained, corpus, tmp_path):
    _, held_out = corpus
    ours_trained.save(tmp_path)
    reloaded = load_tokenizer(tmp_path)
    assert isinstance(reloaded, ByteLevelBPETokenizer)
    assert reloaded.eos_token_id == ours_trained.eos_token_id
    hf = HFTokenizer.from_file(str(tmp_path / "tokenizer.json"))
    for text in held_out[:500] + TRICKY:
        assert reloaded.encode(text) == ours_trained.encode(text) == hf.encode(text).ids, text
    hf_files = HFByteLevelBPE(str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt"))
    assert hf_files.encode("".join(held_out[:200])).ids == ours_trained.encode(
        "".join(held_out[:200])
    )


def test_endoftext_and_padding_sides(ours_trained):
    eos = ours_trained.eos_token_id
    assert ours_trained.encode("a<|endoftext|>b").count(eos) == 1
    tok = ByteLevelBPETokenizer(
        ours_trained.vocab,
        ours_trained.merges,
        special_tokens={"eos": "<|endoftext|>", "pad": "<|endoftext|>"},
    )
    texts = ["To be, or not to be", "Ay"]
    right = tok(texts, padding=True, return_tensors="pt")
    tok.padding_side = "left"
    left = tok(texts, padding=True, return_tensors="pt")
    short = tok.encode("Ay")
    n = right.input_ids.shape[1]
    assert right.input_ids[1].tolist() == short + [eos] * (n - len(short))
    assert left.input_ids[1].tolist() == [eos] * (n - len(short)) + short
    assert left.attention_mask[1].tolist() == [0] * (n - len(short)) + [1] * len(short)
    assert torch.equal(right.attention_mask.sum(1), left.attention_mask.sum(1))


def test_word_cache_is_used_and_consistent(ours_trained):
    ours_trained.cache.clear()
    first = ours_trained.encode(" kingdom kingdom kingdom")
    assert " kingdom" in ours_trained.cache and len(ours_trained.cache) == 1
    assert ours_trained.encode(" kingdom kingdom kingdom") == first


def test_encode_and_show_lists_merges_in_rank_order(ours_trained, capsys):
    ids = encode_and_show(ours_trained, " kingdom")
    printed = capsys.readouterr().out
    ranks = [
        int(line.split("#")[1].split()[0]) for line in printed.splitlines() if "merge #" in line
    ]
    assert ranks and ranks == sorted(ranks)
    assert ids == ours_trained.encode(" kingdom")
