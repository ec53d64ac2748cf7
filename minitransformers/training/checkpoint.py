"""Checkpoints that survive a crash and resume a run exactly.

A checkpoint holds everything that decides what happens next:

* the model's weights, the optimizer's moments and the scheduler's step;
* the step counter (the data position follows from it: see the trainer);
* the random-number-generator states of every process (dropout masks);
* the train config and the history so far;
* the best evaluation so far (step, loss and, with ``keep_best``, its weights).

**Atomic writes.** Writing straight over ``checkpoint.pt`` and being killed
half-way would leave neither the old checkpoint nor the new one. We write a
temporary file in the same folder, flush it to disk, then ``os.replace`` it
onto the real name; on every operating system we support that rename is
atomic, so a reader sees the old file or the new one, never half of one.

**Safe loading.** Everything saved is a tensor or a plain Python number,
string, list, tuple or dict, so :func:`load_checkpoint` uses
``torch.load(weights_only=True)``, which refuses to run code hidden in a file.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch


def rng_state() -> dict[str, Any]:
    """This process's random-number-generator states, as tensors and plain values."""
    numpy_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        # numpy's state holds an array; a list keeps the checkpoint weights_only-loadable
        "numpy": (numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"].cpu())  # generator states live on the CPU
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([cuda_state.cpu() for cuda_state in state["cuda"]])


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` to ``path`` so that a crash never leaves a partial file there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_checkpoint(
    path: str | Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    step: int,
    config: dict[str, Any],
    rng_states: list[dict[str, Any]],
    history: list[dict[str, Any]],
    data_position: dict[str, int],
    grad_scaler: dict[str, Any] | None = None,
    best: dict[str, Any] | None = None,
) -> None:
    """Write one training checkpoint atomically (call it from the main process only).

    ``rng_states`` has one entry per process, in rank order.
    """
    atomic_torch_save(
        {
            "format": "minitransformers-checkpoint-1",
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "config": config,
            "rng_states": rng_states,
            "history": history,
            "data_position": data_position,
            "grad_scaler": grad_scaler or {},
            # the best evaluation so far (step, loss, weights or None), so it survives a resume
            "best": best or {},
        },
        path,
    )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors land on ``map_location``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no checkpoint at {path}; train with output_dir set to write one, "
            "or start without resuming"
        )
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    if (
        not isinstance(checkpoint, dict)
        or checkpoint.get("format") != "minitransformers-checkpoint-1"
    ):
        raise ValueError(f"{path} is not a minitransformers training checkpoint")
    return checkpoint
