"""Tests for BERT masking and the MLM/NSP dataset (minitransformers/data/mlm.py)."""

import pytest
import torch

from minitransformers.data import IGNORE_INDEX, MaskedLMDataset, mask_tokens

PAD, CLS, SEP, MASK = 0, 1, 2, 3
SPECIALS = (PAD, CLS, SEP, MASK)
VOCAB = 1000


def ordinary_ids(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(4, VOCAB, (n,), generator=torch.Generator().manual_seed(seed))


def test_mask_rates_follow_bert():
    ids = ordinary_ids(400_000)
    masked, labels = mask_tokens(
        ids,
        mask_token_id=MASK,
        vocab_size=VOCAB,
        special_token_ids=SPECIALS,
        generator=torch.Generator().manual_seed(1),
    )
    selected = labels != IGNORE_INDEX
    n = selected.sum().item()
    assert abs(n / len(ids) - 0.15) < 0.003
    became_mask = (masked[selected] == MASK).float().mean().item()
    kept = (masked[selected] == ids[selected]).float().mean().item()
    replaced = 1.0 - became_mask - kept
    assert abs(became_mask - 0.8) < 0.01
    # A random draw hits the original id 1 time in VOCAB, so "kept" is a hair above 10%.
    assert abs(kept - 0.1) < 0.01 and abs(replaced - 0.1) < 0.01
    # Unselected tokens are untouched; random replacements come from the whole vocabulary.
    assert torch.equal(masked[~selected], ids[~selected])
    random_ids = masked[selected & (masked != MASK) & (masked != ids)]
    assert random_ids.min() >= 0 and random_ids.max() < VOCAB
    assert random_ids.unique().numel() > 0.9 * min(VOCAB, random_ids.numel())


def test_labels_are_the_original_ids_exactly_where_selected():
    ids = ordinary_ids(5000, seed=3).reshape(50, 100)  # (b, t) works as well as (t,)
    masked, labels = mask_tokens(ids, mask_token_id=MASK, vocab_size=VOCAB, mask_probability=0.5)
    assert masked.shape == labels.shape == ids.shape
    selected = labels != IGNORE_INDEX
    assert torch.equal(labels[selected], ids[selected])
    assert (labels[~selected] == IGNORE_INDEX).all()
    # every changed token is a selected one
    assert not ((masked != ids) & ~selected).any()


def test_specials_and_padding_are_never_masked():
    ids = torch.tensor([CLS, 10, 11, SEP, 12, 13, SEP, PAD, PAD, PAD] * 2000)
    masked, labels = mask_tokens(
        ids,
        mask_token_id=MASK,
        vocab_size=VOCAB,
        special_token_ids=SPECIALS,
        mask_probability=1.0,
        generator=torch.Generator().manual_seed(0),
    )
    special = torch.isin(ids, torch.tensor(SPECIALS))
    assert (labels[special] == IGNORE_INDEX).all()
    assert torch.equal(masked[special], ids[special])
    assert (labels[~special] != IGNORE_INDEX).all()  # probability 1: every ordinary token


def test_special_mask_protects_positions_and_checks_its_shape():
    ids = ordinary_ids(1000)
    protect = torch.zeros(1000, dtype=torch.bool)
    protect[:500] = True
    _, labels = mask_tokens(
        ids, mask_token_id=MASK, vocab_size=VOCAB, special_mask=protect, mask_probability=1.0
    )
    assert (labels[:500] == IGNORE_INDEX).all() and (labels[500:] != IGNORE_INDEX).all()
    with pytest.raises(ValueError, match="one flag per token"):
        mask_tokens(ids, mask_token_id=MASK, vocab_size=VOCAB, special_mask=protect[:10])


def test_masking_is_reproducible_with_a_seeded_generator():
    ids = ordinary_ids(300)
    runs = [
        mask_tokens(
            ids, mask_token_id=MASK, vocab_size=VOCAB, generator=torch.Generator().manual_seed(7)
        )
        for _ in range(2)
    ]
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])


def make_dataset(segments, **kwargs):
    options = {
        "block_size": 16,
        "cls_token_id": CLS,
        "sep_token_id": SEP,
        "pad_token_id": PAD,
        "mask_token_id": MASK,
        "vocab_size": VOCAB,
    }
    return MaskedLMDataset(segments, **(options | kwargs))


def test_single_segment_layout_without_masking():
    dataset = make_dataset([[10, 11, 12], list(range(20, 40))], mask_probability=0.0)
    item = dataset[0]
    assert item["input_ids"].tolist() == [CLS, 10, 11, 12, SEP] + [PAD] * 11
    assert item["attention_mask"].tolist() == [1] * 5 + [0] * 11
    assert item["token_type_ids"].tolist() == [0] * 16
    assert (item["labels"] == IGNORE_INDEX).all()
    long_item = dataset[1]  # truncated to fit [CLS] ... [SEP] in 16
    assert long_item["input_ids"].tolist() == [CLS, *range(20, 34), SEP]
    assert "next_sentence_label" not in item


def test_nsp_pairs_layout_and_labels():
    segments = [[100 + 3 * i, 101 + 3 * i, 102 + 3 * i] for i in range(200)]
    dataset = make_dataset(segments, next_sentence=True, mask_probability=0.0)
    assert len(dataset) == 199
    labels = []
    for index in range(len(dataset)):
        item = dataset[index]
        ids = item["input_ids"].tolist()
        assert ids[:5] == [CLS, *segments[index], SEP]
        assert ids[8] == SEP and ids[9:] == [PAD] * 7
        assert item["token_type_ids"].tolist() == [0] * 5 + [1] * 4 + [0] * 7
        assert item["attention_mask"].tolist() == [1] * 9 + [0] * 7
        b = ids[5:8]
        is_random = item["next_sentence_label"].item()
        assert (b == segments[index + 1]) == (is_random == 0)
        assert b != segments[index]
        labels.append(is_random)
    assert 0.4 < sum(labels) / len(labels) < 0.6


def test_nsp_truncation_keeps_where_a_meets_b():
    a, b = list(range(10, 30)), list(range(50, 60))
    dataset = make_dataset([a, b], next_sentence=True, block_size=13, mask_probability=0.0)
    ids = dataset[0]["input_ids"].tolist()
    if dataset[0]["next_sentence_label"].item() == 1:
        pytest.fail("with two segments the only pair is the true one")
    # 10 token slots: the longer a is cut from its start first, then both to 5 each.
    assert ids == [CLS, 25, 26, 27, 28, 29, SEP, 50, 51, 52, 53, 54, SEP]


def test_dataset_masks_about_15_percent_and_never_specials():
    segments = [ordinary_ids(7, seed=s).tolist() for s in range(3000)]
    dataset = make_dataset(segments, next_sentence=True, block_size=20)
    batch = torch.utils.data.default_collate([dataset[i] for i in range(len(dataset))])
    assert batch["input_ids"].shape == (2999, 20)
    specials = torch.zeros_like(batch["attention_mask"], dtype=torch.bool)
    specials[:, 0] = True
    specials[:, 8] = specials[:, 16] = True  # [SEP]s after two 7-token segments
    specials |= batch["attention_mask"] == 0
    selected = batch["labels"] != IGNORE_INDEX
    assert not (selected & specials).any()
    assert abs(selected.sum().item() / (~specials).sum().item() - 0.15) < 0.01


def test_examples_are_fixed_by_seed_and_epoch():
    segments = [ordinary_ids(12, seed=s).tolist() for s in range(50)]
    first, again = make_dataset(segments, seed=5), make_dataset(segments, seed=5)
    for i in range(50):
        assert torch.equal(first[i]["input_ids"], again[i]["input_ids"])
    again.set_epoch(1)  # new pass, new masks (dynamic masking)
    changed = sum(not torch.equal(first[i]["labels"], again[i]["labels"]) for i in range(50))
    assert changed > 40


def test_whole_word_masking_selects_every_token_of_a_word_together():
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(10, 100, (64, 40), generator=generator)
    # words of 1 to 4 tokens; position 0 is a special token ([CLS]) that is never masked
    word_starts = torch.rand(64, 40, generator=generator) < 0.4
    word_starts[:, 0] = word_starts[:, 1] = True
    special = torch.zeros(64, 40, dtype=torch.bool)
    special[:, 0] = True
    _, labels = mask_tokens(ids, mask_token_id=3, vocab_size=100, special_mask=special, mask_probability=0.3,
                            generator=generator, word_starts=word_starts)
    selected = labels != IGNORE_INDEX
    assert not selected[:, 0].any()
    word_of = word_starts.long().cumsum(dim=1)
    for row in range(64):
        for word in word_of[row].unique():
            tokens = selected[row][word_of[row] == word]
            assert tokens.all() or not tokens.any(), f"row {row}: word {int(word)} was masked in part"
    multi_token_words = (~word_starts).sum()
    assert multi_token_words > 100 and selected.float().mean() > 0.2  # the test saw real words and masks


def test_bpe_word_continuation_joins_the_pieces_of_one_word():
    from minitransformers.recipes.shakespeare_data import bpe_word_continuation
    from minitransformers.tokenizers import ByteLevelBPETokenizer
    from minitransformers.tokenizers.bpe_trainer import train_bpe

    learned = train_bpe(["the king comes\nthe queen goes"] * 3, vocab_size=300, special_tokens=["<pad>"])
    tokenizer = ByteLevelBPETokenizer(learned.vocab, learned.merges, special_tokens={"pad": "<pad>"})
    text = "Messengers come;\nunforc'd accord"
    ids = torch.tensor([tokenizer.encode_ordinary(text)])
    pieces = [tokenizer.decode([i]) for i in ids[0].tolist()]
    continues = bpe_word_continuation(tokenizer)(ids)[0].tolist()
    words, current = [], ""
    for piece, joins in zip(pieces, continues):
        if joins:
            current += piece
        else:
            words.append(current)
            current = piece
    words.append(current)
    assert [w for w in words if w] == ["Messengers", " come", ";", "\n", "unforc'd", " accord"]
