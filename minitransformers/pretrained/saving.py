"""``save_pretrained``: write one of our models as a Hugging Face-format directory.

The directory holds ``config.json`` (Hugging Face keys, with
``architectures`` and ``model_type``) and ``model.safetensors`` (Hugging
Face tensor names and layouts), so ``transformers`` loads it into its own
classes: ``BertForPreTraining.from_pretrained(path)`` and the like.

Tied tensors (the MLM decoder, GPT's LM head) are written once, as the
token embeddings, exactly as ``transformers`` does; ``tie_word_embeddings``
in ``config.json`` tells it to tie them again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from safetensors.torch import save_file
from torch import nn

from .families import family_for_model
from .name_table import join_parts, to_theirs


def save_pretrained(model: nn.Module, path: str | Path) -> None:
    """Write ``config.json`` and ``model.safetensors`` for ``model`` into directory ``path``."""
    family = family_for_model(model)  # GPT-2 or Llama, BERT or ModernBERT: whichever holds the config's parts
    table = family.name_table(model)
    dtype = next(model.parameters()).dtype
    hf_config = family.config_to_hf(model.config, table.architecture, dtype)  # refuses parts it cannot hold
    state = model.state_dict()
    # CPU copies in the checkpoint's layout (GPT-2's Conv1D matrices are transposed; fused
    # matrices of Llama and ModernBERT are put together from our parts).
    tensors, parts = {}, {}
    for entry in table.entries:
        tensor = to_theirs(state[entry.ours].detach(), entry).to("cpu")
        if entry.part is None:
            tensors[table.hf_key(entry)] = tensor.contiguous()
        else:
            parts.setdefault(table.hf_key(entry), {})[entry.part[0]] = tensor
    tensors.update({key: join_parts(pieces).contiguous() for key, pieces in parts.items()})
    directory = Path(path).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    # Write each file under a temporary name and rename it, so an interrupted save
    # never leaves a half-written file under the real name.
    weights_tmp = directory / "model.safetensors.tmp"
    save_file(tensors, str(weights_tmp), metadata={"format": "pt"})
    config_tmp = directory / "config.json.tmp"
    config_tmp.write_text(json.dumps(hf_config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(weights_tmp, directory / "model.safetensors")
    os.replace(config_tmp, directory / "config.json")

