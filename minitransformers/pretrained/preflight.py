"""Checks on a checkpoint's tensors made *before* a model is built from its ``config.json``.

Building a model allocates every weight the config asks for. A damaged or
hand-edited ``config.json`` (``vocab_size: 10**12``, ``n_layer: 10**6``)
would try to allocate terabytes before any other check ran. The tensors in
the weights file are already on disk, so they are cheap to compare with the
config first: the token embeddings say the vocabulary and the width, the
position embeddings say the context length, the segment embeddings the
number of segments, the first block's MLP its inner width, and the block
numbers in the names say the depth. A disagreement means the checkpoint
contradicts itself, and no ``strict=False`` can fix that. A size whose
tensor is missing from the file is still bounded: the config's whole
parameter estimate must fit in what the file holds.

The second check is on dtypes: weights are floating-point numbers. A matrix
stored as int64 or bool would be cast silently by ``copy_`` into something
meaningless, so it is refused by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from .config_mapping import BERT_CONFIG_KEYS, GPT2_CONFIG_KEYS
from .llama_config import LLAMA_CONFIG_KEYS
from .modernbert_config import MODERNBERT_CONFIG_KEYS
from .report import CheckpointError


@dataclass(frozen=True)
class Landmarks:
    """The checkpoint tensors (names relative to the model body) that reveal a config's sizes."""

    body_prefix: str  # where a task model's checkpoint keeps the body
    sizes: dict[str, tuple[str, int]]  # our config field -> (a tensor that shows it, the axis that does)
    block: re.Pattern  # group 1: the block number (the depth is the highest number + 1)
    config_keys: dict[str, str]  # the config.json key -> our config field, for the message


LANDMARKS = {
    "BERT": Landmarks(
        "bert.",
        {"vocab_size": ("embeddings.word_embeddings.weight", 0),
         "hidden_size": ("embeddings.word_embeddings.weight", 1),
         "max_positions": ("embeddings.position_embeddings.weight", 0),
         "type_vocab_size": ("embeddings.token_type_embeddings.weight", 0),
         "intermediate_size": ("encoder.layer.0.intermediate.dense.weight", 0)},  # nn.Linear: (out, in)
        re.compile(r"(?:^|\.)encoder\.layer\.(\d+)\."),
        BERT_CONFIG_KEYS,
    ),
    "GPT-2": Landmarks(
        "transformer.",
        {"vocab_size": ("wte.weight", 0), "hidden_size": ("wte.weight", 1), "max_positions": ("wpe.weight", 0),
         "intermediate_size": ("h.0.mlp.c_fc.weight", 1)},  # GPT-2's Conv1D: (in, out)
        re.compile(r"(?:^|\.)h\.(\d+)\."),
        GPT2_CONFIG_KEYS,
    ),
    "Llama": Landmarks(
        "model.",
        {"vocab_size": ("embed_tokens.weight", 0), "hidden_size": ("embed_tokens.weight", 1),
         "intermediate_size": ("layers.0.mlp.down_proj.weight", 1)},
        re.compile(r"(?:^|\.)layers\.(\d+)\."),
        LLAMA_CONFIG_KEYS,
    ),
    "ModernBERT": Landmarks(
        "model.",
        {"vocab_size": ("embeddings.tok_embeddings.weight", 0), "hidden_size": ("embeddings.tok_embeddings.weight", 1),
         "intermediate_size": ("layers.0.mlp.Wo.weight", 1)},
        re.compile(r"(?:^|\.)layers\.(\d+)\."),
        MODERNBERT_CONFIG_KEYS,
    ),
}

WEIGHT_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


def _find(checkpoint: dict[str, torch.Tensor], name: str, prefix: str) -> torch.Tensor | None:
    return checkpoint.get(name, checkpoint.get(prefix + name))


def check_sizes(family: str, config, checkpoint: dict[str, torch.Tensor], source: str) -> None:
    """Refuse a config whose sizes disagree with the tensors in ``checkpoint``, before any allocation.

    Each size a tensor shows must match the config; and since a tensor may be
    missing, the config's whole parameter estimate must fit in what the file holds.
    """
    marks = LANDMARKS[family]
    key_of = {ours: theirs for theirs, ours in marks.config_keys.items()}
    found: dict[str, int] = {}
    for field, (name, axis) in marks.sizes.items():
        tensor = _find(checkpoint, name, marks.body_prefix)
        if tensor is not None and tensor.ndim == 2:
            found[field] = tensor.shape[axis]
    blocks = {int(m.group(1)) for key in checkpoint if (m := marks.block.search(key))}
    if blocks:
        found["n_layers"] = max(blocks) + 1
    wrong = [
        f"{key_of[field]}={getattr(config, field)!r} but the weights say {value}"
        for field, value in found.items()
        if getattr(config, field) != value
    ]
    fix = "One of the two files is damaged or from another model; download the checkpoint again"
    if wrong:
        raise CheckpointError(f"config.json of {source} does not match its own weights: {'; '.join(wrong)}. {fix}")
    stored = sum(tensor.numel() for tensor in checkpoint.values())
    estimate = config.estimated_parameters()
    # Twice the file, and a little: room for a task head the file lacks, which a model starts afresh.
    if estimate > 2 * stored + 10**6:
        raise CheckpointError(
            f"config.json of {source} asks for about {estimate:.3g} parameters, but its weights hold "
            f"{stored:,} numbers (most would be in {config.largest_part(key_of)}). {fix}"
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
