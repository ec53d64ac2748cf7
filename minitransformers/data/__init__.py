"""Data: the Shakespeare corpus and the datasets that turn token ids into training batches."""

from minitransformers.data.lm_dataset import CausalLMDataset, concatenate_ids
from minitransformers.data.mlm import IGNORE_INDEX, MaskedLMDataset, mask_tokens
from minitransformers.data.shakespeare import (
    VALIDATION_PLAYS,
    CorpusUnavailableError,
    cache_dir,
    clean_text,
    load_works,
    train_validation_split,
)

__all__ = [
    "IGNORE_INDEX",
    "VALIDATION_PLAYS",
    "CausalLMDataset",
    "CorpusUnavailableError",
    "MaskedLMDataset",
    "cache_dir",
    "clean_text",
    "concatenate_ids",
    "load_works",
    "mask_tokens",
    "train_validation_split",
]
