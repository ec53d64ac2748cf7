"""The exercises of the course, in order; ``check`` looks them up here by name."""

from __future__ import annotations

from .attention_exercises import ATTENTION, ATTENTION_SCORES, MASKING
from .capstone_exercises import CAPSTONE
from .exercise import Exercise, Mistake
from .interpret_exercises import INDUCTION_SCORE, LOGIT_LENS_LAYER
from .layer_exercises import ENCODER_BLOCK, KV_CACHE_STEP, MERGE_HEADS, SPLIT_HEADS
from .mask_exercises import ATTENTION_HEAD, CAUSAL_MASK, PADDING_MASK
from .modern_exercises import RMS_NORM, ROTARY
from .pipeline_exercises import (
    LAST_TOKEN_POOLING, MEAN_POOLING, MLM_MASKING, SAMPLING_STEP, SINUSOIDAL_POSITIONS,
)
from .plateau_exercises import PLATEAU_BASELINES

# Course order: masks (notebook 2), attention (1, 2), the layers (3, 7), training and generation (3, 4),
# sentence vectors (6).
EXERCISES: dict[str, Exercise] = {
    exercise.name: exercise
    for exercise in (
        CAUSAL_MASK, PADDING_MASK, ATTENTION_SCORES, MASKING, ATTENTION, ATTENTION_HEAD,
        SPLIT_HEADS, MERGE_HEADS, ENCODER_BLOCK, SINUSOIDAL_POSITIONS, MLM_MASKING, SAMPLING_STEP,
        KV_CACHE_STEP, PLATEAU_BASELINES, MEAN_POOLING, LAST_TOKEN_POOLING,  # the plateau's baselines (4c)
        RMS_NORM, ROTARY,  # from GPT-2 to Llama (7b)
        LOGIT_LENS_LAYER, INDUCTION_SCORE,  # looking inside (8)
        *CAPSTONE,  # your own GPT (9)
    )
}

__all__ = ["EXERCISES", "Exercise", "Mistake"]
