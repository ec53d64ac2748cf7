"""Reading a checkpoint directory safely: ``config.json`` and the weights, nothing else.

Weights come in two formats:

- ``model.safetensors``: a JSON header (names, shapes, dtypes, offsets)
  followed by raw numbers. Reading it can only ever produce tensors, so it
  is preferred whenever both are present.
- ``pytorch_model.bin``: a zip holding a Python *pickle*. Unpickling can
  import any function and call it, so a crafted file can run code on your
  machine. ``torch.load(..., weights_only=True)`` uses a restricted
  unpickler that builds only tensors and plain containers and refuses
  everything else; we never call it any other way.

Large models are split into shards listed in ``*.index.json``; we read those too.
"""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from .report import (
    CheckpointError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
    UnsafeCheckpointError,
)

# In order of preference.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
OTHER_FORMATS = ("tf_model.h5", "flax_model.msgpack", "model.ckpt.index", "rust_model.ot")


def read_config(directory: Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a checkpoint directory."""
    path = directory / "config.json"
    if not path.is_file():
        raise CheckpointNotFoundError(
            f"{directory} has no config.json; a Hugging Face-format checkpoint directory holds "
            f"config.json and model.safetensors (or pytorch_model.bin)"
        )
    check_readable(path)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorruptCheckpointError(f"{path} is not valid JSON ({error}); download it again") from None
    if not isinstance(config, dict):
        raise CorruptCheckpointError(f"{path} should hold a JSON object, found {type(config).__name__}")
    return config


def find_weights(directory: Path) -> Path:
    """The weights file to read: ``model.safetensors`` if present, else ``pytorch_model.bin``."""
    for name in WEIGHT_FILES:
        if (directory / name).is_file():
            return directory / name
    present = sorted(p.name for p in directory.iterdir())
    other = [name for name in OTHER_FORMATS if name in present]
    hint = f" ({other[0]} is a TensorFlow/Flax file, which minitransformers does not read)" if other else ""
    raise CheckpointNotFoundError(
        f"no weights in {directory}: expected one of {list(WEIGHT_FILES[::2])}, found {present}{hint}"
    )


def read_state_dict(directory: Path) -> dict[str, torch.Tensor]:
    """All tensors of the checkpoint in ``directory``, by their checkpoint names, on the CPU."""
    path = find_weights(directory)
    if path.name.endswith(".index.json"):
        return _read_shards(path)
    return _read_file(path)


def _read_file(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        return _read_safetensors(path)
    return _read_pickle(path)


def check_readable(path: Path) -> None:
    """Open ``path`` once, so that "missing" and "not allowed to read" get their own messages.

    (``safetensors`` reports a permission problem as "No such file", and a
    damaged-file message would send the reader to download it again for nothing.)
    """
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise CheckpointNotFoundError(f"{path} does not exist (was it moved or deleted?)") from None
    except PermissionError:
        raise CheckpointError(
            f"no permission to read {path}; fix its permissions (e.g. `chmod a+r {path}`) or run as "
            f"a user who may read it"
        ) from None
    except IsADirectoryError:
        raise CheckpointError(f"{path} is a folder where a weights file should be") from None
    except OSError as error:
        raise CheckpointError(f"cannot open {path}: {error.strerror or error}") from None


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    check_readable(path)
    try:
        return load_file(path, device="cpu")
    except Exception as error:  # noqa: BLE001 -- safetensors raises its own SafetensorError, or OSError
        raise CorruptCheckpointError(
            f"cannot read {path}: {error}. The file is truncated or damaged (an interrupted "
            f"download?); download it again"
        ) from None


def _read_pickle(path: Path) -> dict[str, torch.Tensor]:
    check_readable(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL (\S+)", str(error))
        what = f" (it asks for {found.group(1)})" if found else ""
        raise UnsafeCheckpointError(
            f"refused to load {path}: unpickling it would import or call code{what}, and a weights "
            f"file should hold only tensors. It may be malicious, or a whole pickled model. "
            f"Use a model.safetensors file instead, or convert this one where you trust its source"
        ) from None
    except Exception as error:  # noqa: BLE001 -- truncated zip, not a torch file at all, ...
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CorruptCheckpointError(
            f"cannot read {path}: {first_line}. The file is truncated or damaged, or not a PyTorch "
            f"weights file; download it again"
        ) from None
    return _check_tensors(state, path)


def _check_tensors(state: Any, path: Path) -> dict[str, torch.Tensor]:
    """A weights file must hold a flat ``{name: tensor}`` dictionary."""
    if not isinstance(state, dict):
        raise CorruptCheckpointError(
            f"{path} holds a {type(state).__name__}, expected a dictionary of name -> tensor"
        )
    bad = [f"{k!r} ({type(v).__name__})" for k, v in state.items()
           if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CorruptCheckpointError(
            f"{path} should map names to tensors, but holds non-tensor entries: {', '.join(bad[:5])}"
        )
    return state


def _read_shards(index_path: Path) -> dict[str, torch.Tensor]:
    """Read each shard named in a ``*.index.json`` and merge them."""
    shard_of = _read_shard_index(index_path)
    shard_names = sorted(set(shard_of.values()))
    missing = [name for name in shard_names if not (index_path.parent / name).is_file()]
    if missing:
        raise CheckpointNotFoundError(f"{index_path} lists shards that are not there: {missing}")
    state: dict[str, torch.Tensor] = {}
    for name in shard_names:
        state.update(_read_file(index_path.parent / name))
    absent = sorted(set(shard_of) - set(state))
    if absent:
        raise CheckpointError(f"{index_path} lists tensors its shards do not hold: {absent[:5]}")
    return state


def _read_shard_index(index_path: Path) -> dict[str, str]:
    """The index's ``weight_map`` (tensor name -> shard file), checked entry by entry.

    A shard must be a plain file name inside the checkpoint folder: an entry
    such as ``"../other/model.safetensors"``, an absolute path, or a link that
    leads outside would load weights from somewhere the user never chose.
    """
    check_readable(index_path)
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorruptCheckpointError(f"{index_path} is not valid JSON ({error}); download it again") from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict):
        raise CorruptCheckpointError(
            f"{index_path} should hold a JSON object with a \"weight_map\" object (tensor name -> "
            f"shard file name), found {type(weight_map if isinstance(index, dict) else index).__name__}"
        )
    bad = [f"{k!r}: {v!r}" for k, v in weight_map.items() if not isinstance(v, str)]
    if bad:
        raise CorruptCheckpointError(
            f"{index_path}: each weight_map entry should name a shard file (a string), found {', '.join(bad[:3])}"
        )
    folder = index_path.parent.resolve()
    for name in sorted(set(weight_map.values())):
        target = (index_path.parent / name).resolve()
        if Path(name).is_absolute() or ".." in Path(name).parts or not target.is_relative_to(folder):
            raise UnsafeCheckpointError(
                f"{index_path} names the shard {name!r}, which is outside the checkpoint folder "
                f"{index_path.parent}; shards must be files in that folder, so this index was refused"
            )
    return weight_map
