"""Data: the Shakespeare corpus and the datasets that turn token ids into training batches."""

from minitransformers.data.shakespeare import (
    VALIDATION_PLAYS,
    CorpusUnavailableError,
    cache_dir,
    clean_text,
    load_works,
    train_validation_split,
)

__all__ = [
    "VALIDATION_PLAYS",
    "CorpusUnavailableError",
    "cache_dir",
    "clean_text",
    "load_works",
    "train_validation_split",
]
