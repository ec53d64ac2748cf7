"""Loading and saving Hugging Face-format checkpoints (``config.json`` + weights).

Read in order: ``config_mapping`` (config names) -> ``bert_names`` and
``gpt2_names`` (tensor names) -> ``reading`` (safe file reading) ->
``loading`` / ``saving``. ``hub`` resolves names like ``"gpt2"``;
``known`` finds checkpoints installed on this machine.

The same classes read newer architectures built from swapped parts:
``llama_config`` and ``llama_names`` (a GPT with Llama's parts),
``modernbert_config`` and ``modernbert_names`` (a BERT with ModernBERT's);
``families`` picks the tables for a checkpoint or a model.
"""

from .config_mapping import (
    bert_config_from_hf,
    bert_config_to_hf,
    gpt_config_from_hf,
    gpt_config_to_hf,
)
from .known import minilm_path, shipped_path, weights_folder
from .loading import load_pretrained
from .reading import read_config, read_state_dict
from .report import (
    CheckpointError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
    LoadingReport,
    Mismatch,
    UnsafeCheckpointError,
)
from .saving import save_pretrained

__all__ = [
    "CheckpointError",
    "CheckpointMismatchError",
    "CheckpointNotFoundError",
    "CorruptCheckpointError",
    "LoadingReport",
    "Mismatch",
    "UnsafeCheckpointError",
    "bert_config_from_hf",
    "bert_config_to_hf",
    "gpt_config_from_hf",
    "gpt_config_to_hf",
    "load_pretrained",
    "minilm_path",
    "read_config",
    "read_state_dict",
    "save_pretrained",
    "shipped_path",
    "weights_folder",
]
