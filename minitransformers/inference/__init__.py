"""Using trained models: fill in a [MASK], embed sentences, score sentence pairs (BERT and GPT)."""

from .embeddings import pool, sentence_embeddings
from .fill_mask import fill_mask
from .nsp import next_sentence_score

__all__ = ["fill_mask", "next_sentence_score", "pool", "sentence_embeddings"]
