"""The exercises of the course, in order; ``check`` looks them up here by name."""

from __future__ import annotations

from .attention_exercises import ATTENTION, ATTENTION_SCORES, MASKING
from .exercise import Exercise, Mistake
from .layer_exercises import ENCODER_BLOCK, KV_CACHE_STEP, MERGE_HEADS, SPLIT_HEADS

EXERCISES: dict[str, Exercise] = {
    exercise.name: exercise
    for exercise in (ATTENTION_SCORES, MASKING, ATTENTION, SPLIT_HEADS, MERGE_HEADS, ENCODER_BLOCK, KV_CACHE_STEP)
}

__all__ = ["EXERCISES", "Exercise", "Mistake"]
