"""TrainConfig: every knob of the training loop in one small, validated dataclass.

A config can live in a JSON file and be tweaked from the command line:

    config = TrainConfig.from_json("gpt-mini.json", overrides=["learning_rate=3e-4", "max_steps=500"])

Everything in it is a plain number, string, bool or None, so it is saved
inside checkpoints as-is and read back with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class TrainConfig:
    """Hyper-parameters of :class:`~minitransformers.training.Trainer`.

    ``batch_size`` is the *global* batch: the examples behind one optimizer
    step, summed over gradient-accumulation micro-batches and over processes.
    Each process handles ``batch_size / world_size`` of them, in
    ``gradient_accumulation_steps`` micro-batches.
    """

    max_steps: int = 1000  # optimizer steps in the whole run
    batch_size: int = 32
    gradient_accumulation_steps: int = 1
    learning_rate: float = 3e-4  # peak, reached at the end of warm-up
    min_learning_rate: float = 3e-5  # the cosine decays to this at max_steps
    warmup_steps: int = 100
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float | None = 1.0  # max global gradient norm; None: no clipping
    eval_every: int = 100  # steps between evaluations; 0: never
    eval_batches: int | None = 20  # batches per evaluation; None: the whole eval set
    log_every: int = 1  # steps between history rows (each row averages its steps' losses)
    checkpoint_every: int = 0  # steps between checkpoints; 0: only at the end
    output_dir: str | None = None  # where checkpoint.pt goes; None: no checkpoints
    seed: int = 0
    device: str = "auto"  # "auto": cuda when available, else cpu
    autocast_dtype: str | None = None  # "bfloat16" for mixed precision on GPU; None: float32
    progress: bool = True  # show a tqdm progress bar (main process only)
    compile: bool = False  # torch.compile the model for training (faster steps after a warm-up)
    keep_best: bool = False  # keep the weights of the lowest eval loss (saved in checkpoints)

    def __post_init__(self) -> None:
        positive = ("max_steps", "batch_size", "gradient_accumulation_steps", "log_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        non_negative = ("warmup_steps", "eval_every", "checkpoint_every", "weight_decay")
        for name in non_negative:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0 <= self.min_learning_rate <= self.learning_rate:
            raise ValueError(
                f"need 0 <= min_learning_rate <= learning_rate, got {self.min_learning_rate} "
                f"and {self.learning_rate}"
            )
        if self.warmup_steps > self.max_steps:
            raise ValueError(
                f"warmup_steps={self.warmup_steps} exceeds max_steps={self.max_steps}; "
                "shorten the warm-up or train longer"
            )
        if self.batch_size % self.gradient_accumulation_steps:
            raise ValueError(
                f"batch_size={self.batch_size} must be divisible by "
                f"gradient_accumulation_steps={self.gradient_accumulation_steps}"
            )
        if self.autocast_dtype not in (None, "bfloat16", "float16"):
            raise ValueError(
                f"autocast_dtype must be None, 'bfloat16' or 'float16', got {self.autocast_dtype!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise KeyError(f"unknown TrainConfig keys {unknown}; valid keys are {sorted(known)}")
        return cls(**data)

    def save_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_json(cls, path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
        """Read a JSON object of fields, then apply ``overrides`` like ``"max_steps=200"``."""
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict):
            raise TypeError(f"{path} must hold a JSON object of TrainConfig fields")
        # Overrides join the file's values *before* validation, so checks see the final config.
        return cls.from_dict({**data, **cls._parse_overrides(overrides or [])})

    def with_overrides(self, overrides: list[str]) -> TrainConfig:
        """A copy with ``key=value`` strings applied; values are parsed by the field's type."""
        return dataclasses.replace(self, **self._parse_overrides(overrides))

    @classmethod
    def _parse_overrides(cls, overrides: list[str]) -> dict[str, Any]:
        types = typing.get_type_hints(cls)
        changes = {}
        for item in overrides:
            key, sep, text = item.partition("=")
            key = key.strip()
            if not sep or key not in types:
                raise ValueError(
                    f"bad override {item!r}: expected key=value with key one of {sorted(types)}"
                )
            changes[key] = _parse_value(text.strip(), types[key], key)
        return changes


def _parse_value(text: str, annotation: Any, key: str) -> Any:
    """Turn ``"3e-4"`` into 3e-4 for a float field, ``"none"`` into None for an optional one..."""
    options = typing.get_args(annotation) or (annotation,)
    if text.lower() in ("none", "null") and type(None) in options:
        return None
    for kind in options:
        if kind is bool:
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
        elif kind is int:
            try:
                return int(text)
            except ValueError:
                pass
        elif kind is float:
            try:
                return float(text)
            except ValueError:
                pass
        elif kind is str:
            return text
    names = " or ".join(getattr(kind, "__name__", str(kind)) for kind in options)
    raise ValueError(f"cannot read {text!r} as {names} for {key}")
