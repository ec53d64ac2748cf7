"""Checks on a checkpoint's tensors made *before* a model is built from its ``config.json``.

Building a model allocates every weight the config asks for. A damaged or
hand-edited ``config.json`` (``vocab_size: 10**12``, ``n_layer: 10**6``)
would try to allocate terabytes before any other check ran. The tensors in
the weights file are already on disk, so they are cheap to compare with the
config first: the token embeddings say the vocabulary and the width, the
position embeddings say the context length, and the block numbers in the
names say the depth. A disagreement means the checkpoint contradicts
itself, and no ``strict=False`` can fix that.

The second check is on dtypes: weights are floating-point numbers. A matrix
stored as int64 or bool would be cast silently by ``copy_`` into something
meaningless, so it is refused by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from .report import CheckpointError


@dataclass(frozen=True)
class Landmarks:
    """The checkpoint names (relative to the model body) that reveal a config's sizes."""

    body_prefix: str  # where a task model's checkpoint keeps the body
    token_embeddings: str  # (vocab_size, hidden_size)
    position_embeddings: str  # (max_positions, hidden_size)
    block: re.Pattern  # group 1: the block number
    config_keys: dict[str, str]  # our config field -> the config.json key, for the message


LANDMARKS = {
    "BERT": Landmarks(
        "bert.", "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
        re.compile(r"(?:^|\.)encoder\.layer\.(\d+)\."),
        {"vocab_size": "vocab_size", "hidden_size": "hidden_size", "n_layers": "num_hidden_layers",
         "max_positions": "max_position_embeddings"},
    ),
    "GPT-2": Landmarks(
        "transformer.", "wte.weight", "wpe.weight", re.compile(r"(?:^|\.)h\.(\d+)\."),
        {"vocab_size": "vocab_size", "hidden_size": "n_embd", "n_layers": "n_layer", "max_positions": "n_positions"},
    ),
}

WEIGHT_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


def _find(checkpoint: dict[str, torch.Tensor], name: str, prefix: str) -> torch.Tensor | None:
    return checkpoint.get(name, checkpoint.get(prefix + name))


def check_sizes(family: str, config, checkpoint: dict[str, torch.Tensor], source: str) -> None:
    """Refuse a config whose sizes disagree with the tensors in ``checkpoint``, before any allocation."""
    marks = LANDMARKS[family]
    prefix = marks.body_prefix
    found: dict[str, int] = {}
    tokens = _find(checkpoint, marks.token_embeddings, prefix)
    if tokens is not None and tokens.ndim == 2:
        found["vocab_size"], found["hidden_size"] = tokens.shape
    positions = _find(checkpoint, marks.position_embeddings, prefix)
    if positions is not None and positions.ndim == 2:
        found["max_positions"] = positions.shape[0]
    blocks = {int(m.group(1)) for key in checkpoint if (m := marks.block.search(key))}
    if blocks:
        found["n_layers"] = max(blocks) + 1
    wrong = [
        f"{marks.config_keys[field]}={getattr(config, field)!r} but the weights say {value}"
        for field, value in found.items()
        if getattr(config, field) != value
    ]
    if wrong:
        raise CheckpointError(
            f"config.json of {source} does not match its own weights: {'; '.join(wrong)}. One of the two "
            f"files is damaged or from another model; download the checkpoint again"
        )


def check_dtypes(tensors: dict[str, torch.Tensor], source: str) -> None:
    """Refuse weights stored as integers or booleans, naming each one."""
    wrong = [f"{key} ({str(t.dtype).removeprefix('torch.')})" for key, t in tensors.items()
             if t.dtype not in WEIGHT_DTYPES]
    if wrong:
        raise CheckpointError(
            f"{source} stores weights that are not floating-point numbers: {', '.join(wrong[:5])}"
            f"{' ...' if len(wrong) > 5 else ''}; weights must be float32, float16 or bfloat16. The file "
            f"is damaged or was written wrongly; download or export it again"
        )
