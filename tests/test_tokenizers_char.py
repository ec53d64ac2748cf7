"""The character tokenizer: built from a text, exact round trip, save/load, batching."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitransformers.tokenizers import CharTokenizer, load_tokenizer

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n"


def test_vocabulary_is_the_sorted_characters_of_the_text():
    tok = CharTokenizer.from_text(TEXT)
    assert tok.convert_ids_to_tokens(list(range(tok.vocab_size))) == sorted(set(TEXT))
    chars = sorted(set(TEXT))
    assert tok.encode("ah", add_special_tokens=False) == [chars.index("a"), chars.index("h")]


@given(st.text(alphabet=sorted(set(TEXT))))
def test_round_trip(text):
    tok = CharTokenizer.from_text(TEXT)
    assert tok.decode(tok.encode(text)) == text
    assert len(tok.encode(text)) == len(text)


def test_save_and_load(tmp_path):
    tok = CharTokenizer.from_text(TEXT, special_tokens={"pad": "<pad>", "unk": "<unk>"})
    tok.save(tmp_path)
    again = load_tokenizer(tmp_path)
    assert isinstance(again, CharTokenizer)
    assert again.vocab == tok.vocab and again.pad_token_id == 0 and again.unk_token_id == 1
    assert again.encode(TEXT) == tok.encode(TEXT)


def test_unknown_characters_and_padding():
    plain = CharTokenizer.from_text(TEXT)
    with pytest.raises(ValueError, match="'Z' at position 1"):
        plain.encode("aZ")
    with pytest.raises(ValueError, match="no padding token"):
        plain(["a", "he"], padding=True)
    tok = CharTokenizer.from_text(TEXT, special_tokens={"pad": "<pad>", "unk": "<unk>"})
    assert tok.encode("Z") == [tok.unk_token_id]
    batch = tok(["hear", "me"], padding=True, return_tensors="pt")
    assert batch.input_ids.shape == (2, 4)
    assert batch.input_ids[1].tolist()[2:] == [tok.pad_token_id] * 2
    assert batch.attention_mask.tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]
    assert tok.decode(batch.input_ids[1], skip_special_tokens=True) == "me"
