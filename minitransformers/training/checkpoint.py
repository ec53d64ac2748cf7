"""Checkpoints that survive a crash and resume a run exactly.

A checkpoint holds everything that decides what happens next:

* the model's weights, the optimizer's moments and the scheduler's step;
* the step counter (the data position follows from it: see the trainer);
* the random-number-generator states of every process (dropout masks);
* the train config, the model's config (see ``resume.py``) and the history so far;
* the best evaluation so far (step, loss and, with ``keep_best``, its weights).

**Atomic writes.** Writing straight over ``checkpoint.pt`` and being killed
half-way would leave neither the old checkpoint nor the new one. We write a
temporary file in the same folder, flush it to disk, then ``os.replace`` it
onto the real name; on every operating system we support that rename is
atomic, so a reader sees the old file or the new one, never half of one.

**Two generations.** The checkpoint being replaced stays as
``checkpoint.previous.pt`` (a hard link made before the rename, so the real
name never goes missing). If the latest one turns out to be damaged, loading
falls back to the previous one with a warning, instead of losing the run,
and moves the damaged file aside (``checkpoint.pt.damaged``): left in place,
the next save would keep it as the "previous" one and drop the good one.

**A checksum.** Disks and copies can flip or overwrite bytes without any
error: 256 overwritten bytes inside a weight matrix still unpickle fine and
quietly train into NaN. So every checkpoint records a SHA-256 of its whole
content (each tensor's bytes and every plain value, in order), and loading
recomputes it; a mismatch counts as damage.

**Stale temporary files** from a save that was killed are removed by the next save.

**A failed write** (a full disk, a file-size limit) removes its temporary
file, leaves the checkpoints already there as they were, and says what
happened and where, in place of torch's ``unexpected pos`` from deep inside.

**Safe loading.** Everything saved is a tensor or a plain Python number,
string, list, tuple or dict, so :func:`load_checkpoint` uses
``torch.load(weights_only=True)``, which refuses to run code hidden in a file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from minitransformers.training.resume import model_config


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


FORMAT = "minitransformers-checkpoint-1"
# What every checkpoint must hold; extra entries (e.g. the best-so-far state) are carried as they are.
REQUIRED = ("model", "optimizer", "scheduler", "step", "config", "rng_states", "history")


class DamagedCheckpointError(ValueError):
    """A checkpoint file that is empty, truncated, overwritten, or lacks an entry."""


class CheckpointWriteError(OSError):
    """A checkpoint that could not be written (a full disk, a file-size limit); nothing was replaced."""


def previous_path(path: str | Path) -> Path:
    """Where the checkpoint before ``path`` is kept: ``checkpoint.pt`` -> ``checkpoint.previous.pt``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.previous{path.suffix}")


def damaged_path(path: str | Path) -> Path:
    """Where a damaged checkpoint is moved when found: ``checkpoint.pt`` -> ``checkpoint.pt.damaged``."""
    path = Path(path)
    return path.with_name(path.name + ".damaged")


def checksum(state: Any) -> str:
    """SHA-256 of everything in ``state``: each tensor's dtype, shape and bytes, and every plain value.

    Lists and tuples count alike (a file may read one back as the other).
    """
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
        elif isinstance(value, dict):
            digest.update(f"D{len(value)}".encode())
            for key, item in value.items():
                digest.update(repr(key).encode())
                feed(item)
        elif isinstance(value, (list, tuple)):
            digest.update(f"L{len(value)}".encode())
            for item in value:
                feed(item)
        else:
            digest.update(f"V{value!r}".encode())

    feed(state)
    return digest.hexdigest()


def remove_stale_temporaries(path: str | Path) -> None:
    """Delete what a save killed half-way left behind (``.checkpoint.pt.*.tmp``)."""
    path = Path(path)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


def _keep_previous(path: Path) -> None:
    """Make ``previous_path(path)`` the current checkpoint, without ever removing ``path``."""
    if not path.exists():
        return
    previous = previous_path(path)
    staging = previous.with_name(f".{previous.name}.link.tmp")
    staging.unlink(missing_ok=True)
    try:
        os.link(path, staging)  # a second name for the same bytes: instant, no copy
    except OSError:  # a file system without hard links
        shutil.copy2(path, staging)
    os.replace(staging, previous)


def atomic_torch_save(obj: Any, path: str | Path, keep_previous: bool = False) -> None:
    """``torch.save`` to ``path`` so that a crash never leaves a partial file there.

    With ``keep_previous`` the file it replaces stays as ``previous_path(path)``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            with os.fdopen(handle, "wb") as file:
                torch.save(obj, file)
                file.flush()
                os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        except (OSError, RuntimeError) as error:  # torch's writer reports a short write as RuntimeError
            raise CheckpointWriteError(_write_failure(path, Path(temporary), error)) from None
        if keep_previous:
            _keep_previous(path)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_failure(path: Path, temporary: Path, error: BaseException) -> str:
    """What stopped a checkpoint write, and where: a full disk, a file-size limit, or the error itself."""
    written = temporary.stat().st_size if temporary.exists() else 0
    code = getattr(error, "errno", None)
    free = shutil.disk_usage(path.parent).free
    limit = _file_size_limit()
    elsewhere = f"set output_dir to another disk than {path.parent}"
    if code == errno.EFBIG or (limit is not None and written >= limit):
        shown = f" of {limit:,} bytes" if limit is not None else ""
        reason, fix = f"the file-size limit{shown}", f"raise it (ulimit -f) or {elsewhere}"
    elif code == errno.ENOSPC or free < 1 << 20:
        reason, fix = f"a full disk ({free:,} bytes free)", f"free some space on that disk or {elsewhere}"
    else:
        reason, fix = (str(error).splitlines() or [type(error).__name__])[0][:200], elsewhere
    kept = "The checkpoint already there is unchanged" if path.exists() else "No checkpoint was written"
    return (f"could not write the checkpoint {path}: writing stopped after {written:,} bytes because of "
            f"{reason}. {kept}; {fix}, and save again")


def _file_size_limit() -> int | None:
    """This process's largest file in bytes (``ulimit -f``), or None for no limit (or no such notion)."""
    try:
        import resource  # Unix only
    except ImportError:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else soft


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
    **extra: Any,
) -> None:
    """Write one training checkpoint atomically (call it from the main process only).

    ``rng_states`` has one entry per process, in rank order. ``extra`` entries
    (plain values and tensors) are saved as they are and come back from
    :func:`load_checkpoint`. The checkpoint this one replaces is kept as
    ``previous_path(path)``.
    """
    remove_stale_temporaries(path)
    state = {
        "format": FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "step": step,
        "config": config,
        "model_config": model_config(model),  # None for a model without a config
        "rng_states": rng_states,
        "history": history,
        "data_position": data_position,
        "grad_scaler": grad_scaler or {},
        # the best evaluation so far (step, loss, weights or None), so it survives a resume
        "best": best or {},
        **extra,
    }
    state["checksum"] = checksum(state)
    atomic_torch_save(state, path, keep_previous=True)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors land on ``map_location``).

    A damaged latest checkpoint falls back to the previous one, with a warning,
    and is moved to ``damaged_path(path)``.
    """
    path = Path(path)
    previous = previous_path(path)
    if not path.exists() and not previous.exists():
        raise FileNotFoundError(
            f"no checkpoint at {path}; train with output_dir set to write one, "
            "or start without resuming"
        )
    try:
        return read_checkpoint(path, map_location)
    except (DamagedCheckpointError, FileNotFoundError) as error:
        if not previous.exists():
            raise
        try:
            state = read_checkpoint(previous, map_location)
        except DamagedCheckpointError as second:
            raise DamagedCheckpointError(
                f"{error} The previous checkpoint is damaged too ({second}); start again without resuming"
            ) from None
        warnings.warn(f"{error} Resuming from the previous checkpoint, {previous} (step {state['step']})."
                      f"{_move_aside(path)}", stacklevel=2)
        return state


def _move_aside(path: Path) -> str:
    """Rename a damaged latest checkpoint, so that the next save cannot keep it as the previous one."""
    if not path.exists():
        return ""
    try:
        os.replace(path, damaged_path(path))
    except FileNotFoundError:  # another process of the run moved it first
        return ""
    except OSError as error:
        return (f" It could not be moved aside ({error}): delete it before the next save, which would "
                f"otherwise keep it as the previous checkpoint.")
    return f" The damaged file is now {damaged_path(path)}."


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """One checkpoint file, checked: readable, complete, and matching its checksum."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if path.is_dir():
        raise DamagedCheckpointError(f"{path} is a folder, not a checkpoint file.")
    fix = "It is damaged (a crash or a full disk while writing, or a bad copy)."
    if path.stat().st_size == 0:
        raise DamagedCheckpointError(f"{path} is empty. {fix}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except PermissionError:
        raise PermissionError(f"no permission to read {path}; fix its permissions (chmod a+r)") from None
    except Exception as error:  # noqa: BLE001 -- truncated zip, garbage, a pickle that is not ours...
        first_line = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise DamagedCheckpointError(f"cannot read {path} ({first_line}). {fix}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise DamagedCheckpointError(f"{path} is not a minitransformers training checkpoint.")
    missing = [key for key in REQUIRED if key not in state]
    if missing:
        raise DamagedCheckpointError(f"{path} lacks the entries {missing}. {fix}")
    recorded = state.pop("checksum", None)  # older checkpoints have none
    if recorded is not None and checksum(state) != recorded:
        raise DamagedCheckpointError(f"{path} does not match its checksum: its bytes changed after saving. {fix}")
    return state
