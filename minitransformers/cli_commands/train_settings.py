"""Where ``minitransformers train`` gets its settings: a JSON file, or an interrupted run's checkpoint.

Both are checked field by field against ``TrainConfig`` so that a mistake is
one line naming the field, the value found and what was expected.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import typing
from pathlib import Path
from typing import Any

from .common import CLIError


def positive_int(text: str) -> int:
    """argparse type for ``--steps``: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of steps, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}; leave it out for the default")
    return value


def _accepts(annotation: Any, value: Any) -> bool:
    """Does ``value`` (from JSON) fit a ``TrainConfig`` field annotated ``annotation``?"""
    options = typing.get_args(annotation) or (annotation,)
    for kind in options:
        if kind is type(None) and value is None:
            return True
        if kind is bool and isinstance(value, bool):
            return True
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if kind is str and isinstance(value, str):
            return True
    return False


def _type_name(annotation: Any) -> str:
    options = typing.get_args(annotation) or (annotation,)
    return " or ".join("null" if kind is type(None) else kind.__name__ for kind in options)


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in a ``--config`` JSON file, checked against ``TrainConfig``'s fields and types."""
    from ..training import TrainConfig

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CLIError(f"no config file at {path}") from None
    except IsADirectoryError:
        raise CLIError(f"--config {path} is a folder; give a JSON file of TrainConfig settings") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CLIError(f"--config {path} is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise CLIError(f"--config {path} holds a JSON {type(data).__name__}; it should hold an object of "
                       f'settings, e.g. {{"learning_rate": 3e-4, "max_steps": 500}}')
    types = typing.get_type_hints(TrainConfig)
    fields = [field.name for field in dataclasses.fields(TrainConfig)]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise CLIError(f"--config {path}: unknown settings {unknown}; the settings are {fields}")
    for key, value in data.items():
        if not _accepts(types[key], value):
            raise CLIError(f"--config {path}: {key} should be {_type_name(types[key])}, got {value!r}")
    return data


def saved_settings(checkpoint_dir: Path) -> dict[str, Any] | None:
    """The ``TrainConfig`` settings of the run checkpointed in ``checkpoint_dir``, or None if there is none."""
    from ..training import checkpoint as ckpt
    from ..training.trainer_checkpoints import CHECKPOINT_NAME

    path = checkpoint_dir / CHECKPOINT_NAME
    if not path.exists() and not ckpt.previous_path(path).exists():
        return None
    return dict(ckpt.load_checkpoint(path)["config"])


PRESET_FILE = "cli_preset.json"  # beside the checkpoint: the model size is not a TrainConfig setting


def remember_preset(checkpoint_dir: Path, preset: str) -> None:
    """Note ``--preset`` beside the checkpoints, so that ``--resume`` builds the same model."""
    if int(os.environ.get("RANK", "0")) == 0:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        (checkpoint_dir / PRESET_FILE).write_text(json.dumps({"preset": preset}) + "\n", encoding="utf-8")


def saved_preset(checkpoint_dir: Path) -> str | None:
    """The ``--preset`` of the run checkpointed in ``checkpoint_dir``, if it noted one."""
    try:
        return json.loads((checkpoint_dir / PRESET_FILE).read_text(encoding="utf-8")).get("preset")
    except (OSError, ValueError, AttributeError):
        return None
