"""A small labelled set of product reviews, for comparing text embeddings.

``reviews.csv`` (next to this file) holds over 300 short reviews written for this
project, over seven product kinds: dog food, coffee, headphones, running
shoes, skincare, blender and board game. They read like real reviews:
misspellings, slang, emoji, praise and complaints, one to three sentences.

A handful are *confusable* on purpose: a coffee review that mentions the
dog, a headphone review written in a coffee shop. The ``confusable`` column
names the product kind such a review could be mistaken for (empty for all
others). A good embedding should still put them with their own product; a
weak one is pulled toward the other kind, which is exactly what the original
BERT-vs-GPT article noticed by eye.

>>> reviews = load_reviews()
>>> reviews[0].label
'dog food'
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

_FILE_NAME = "reviews.csv"
_HEADER = ["text", "label", "confusable"]


@dataclass(frozen=True)
class Review:
    """One review: its ``text``, its product kind ``label`` and, if it is a deliberately
    confusable one, the product kind it mentions (``confusable_with``; ``""`` otherwise)."""

    text: str
    label: str
    confusable_with: str = ""

    @property
    def confusable(self) -> bool:
        """True when the review mentions another product kind on purpose."""
        return bool(self.confusable_with)


def load_reviews() -> list[Review]:
    """Read the packaged ``reviews.csv`` into a list of :class:`Review`, in file order.

    The file is grouped by product kind; shuffle it yourself if order matters.
    """
    source = resources.files("minitransformers.data").joinpath(_FILE_NAME)
    with source.open("r", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != _HEADER:
            raise ValueError(
                f"{_FILE_NAME} should start with the header {_HEADER}, found {header}; "
                "the packaged file is damaged: reinstall minitransformers"
            )
        reviews = []
        for line_number, row in enumerate(reader, start=2):
            if len(row) != len(_HEADER):
                raise ValueError(
                    f"{_FILE_NAME} line {line_number} has {len(row)} fields, expected "
                    f"{len(_HEADER)} (text,label,confusable); quote texts that contain commas"
                )
            text, label, confusable_with = (field.strip() for field in row)
            reviews.append(Review(text=text, label=label, confusable_with=confusable_with))
    return reviews


def review_columns(reviews: list[Review] | None = None) -> tuple[list[str], list[str], list[bool]]:
    """Split reviews into ``(texts, labels, confusable flags)``, the inputs of
    :func:`minitransformers.analysis.compare_embeddings`. Defaults to :func:`load_reviews`."""
    reviews = load_reviews() if reviews is None else reviews
    texts = [review.text for review in reviews]
    labels = [review.label for review in reviews]
    flags = [review.confusable for review in reviews]
    return texts, labels, flags
