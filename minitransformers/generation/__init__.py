"""Text generation for mini-GPT: the KV-cached loop, sampling rules, stop conditions, streaming."""

from .generate import generate, generate_stream, positions_from_mask
from .sampling import (
    apply_repetition_penalty,
    apply_temperature,
    choose_next_token,
    greedy,
    sample,
    top_k_filter,
    top_p_filter,
)
from .stopping import StopConditions
from .streaming import stream_text

__all__ = [
    "StopConditions",
    "apply_repetition_penalty",
    "apply_temperature",
    "choose_next_token",
    "generate",
    "generate_stream",
    "greedy",
    "positions_from_mask",
    "sample",
    "stream_text",
    "top_k_filter",
    "top_p_filter",
]
