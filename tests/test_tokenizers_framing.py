"""The byte-level BPE options the shipped mini-BERT uses: BERT framing and the mask token."""

import pytest

from minitransformers.tokenizers import ByteLevelBPETokenizer, train_bpe

SPECIALS = {"eos": "<|endoftext|>", "pad": "<pad>", "cls": "<cls>", "sep": "<sep>", "mask": "<mask>"}


@pytest.fixture(scope="module")
def learned():
    text = ["the question is whether the king is dead or the question is not"] * 20
    return train_bpe(text, vocab_size=300, special_tokens=list(SPECIALS.values()), show_progress=False)


def _tokenizer(learned, frame):
    return ByteLevelBPETokenizer(learned.vocab, learned.merges, special_tokens=SPECIALS, frame=frame)


def test_bert_frame_adds_cls_and_sep_with_segments(learned):
    tok = _tokenizer(learned, "bert")
    a, b = tok.encode_ordinary("the king"), tok.encode_ordinary(" is dead")
    encoded = tok("the king", " is dead")
    assert encoded["input_ids"] == [tok.cls_token_id, *a, tok.sep_token_id, *b, tok.sep_token_id]
    assert encoded["token_type_ids"] == [0] * (len(a) + 2) + [1] * (len(b) + 1)
    assert _tokenizer(learned, "none")("the king")["input_ids"] == a


def test_mask_token_absorbs_the_space_before_it(learned):
    tok = _tokenizer(learned, "bert")
    assert tok.tokenize("the <mask>.") == ["the", "<mask>", "."]
    # Decoding a filled mask gives the space back through the word's own "Ġ".
    filled = tok.encode_ordinary("the") + tok.encode_ordinary(" question")
    assert tok.decode(filled) == "the question"


def test_frame_is_saved_and_loaded(learned, tmp_path):
    _tokenizer(learned, "bert").save(tmp_path)
    assert ByteLevelBPETokenizer.from_directory(tmp_path).frame == "bert"


def test_bad_frame_is_rejected(learned):
    with pytest.raises(ValueError, match="frame must be"):
        _tokenizer(learned, "t5")
    no_cls = {k: v for k, v in SPECIALS.items() if k != "cls"}
    with pytest.raises(ValueError, match="needs 'cls' and 'sep'"):
        ByteLevelBPETokenizer(learned.vocab, learned.merges, special_tokens=no_cls, frame="bert")


def test_display_tokens_are_readable(learned):
    tok = _tokenizer(learned, "bert")
    ids = tok.encode_ordinary("the\nking <mask>")  # the mask takes the space before it
    raw = tok.convert_ids_to_tokens(ids)
    shown = tok.display_tokens(ids)
    assert len(shown) == len(raw)
    assert not any("Ġ" in label or "Ċ" in label for label in shown)
    assert shown[-1] == "<mask>" and "⏎" in shown
    assert "".join(shown).replace("⏎", "") == "theking<mask>"
