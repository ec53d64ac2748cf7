"""What every sub-command shares: finding checkpoints, loading them, device and seed, user errors.

A *user mistake* (a missing folder, a bad option value) raises ``CLIError``;
``cli.main`` prints its message as one line on stderr and exits with code 2,
so the reader sees what to fix instead of a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..pretrained.known import shipped_path
from ..pretrained.report import CheckpointNotFoundError

SHIPPED_GPT = "mini-gpt-shakespeare"
SHIPPED_BERT = "mini-bert-shakespeare"


class CLIError(Exception):
    """A mistake the user can fix; shown as one line, exit code 2."""


def check_writable(path: Path, option: str) -> None:
    """Refuse at once (before any model loads) an output ``path`` whose folder cannot be made or written."""
    folder = Path(path).expanduser().absolute().parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CLIError(f"{option} {path}: {existing} is a file, not a folder; choose a path inside a folder")
    if not os.access(existing, os.W_OK):
        raise CLIError(f"{option} {path}: the folder {existing} is read-only for you; choose a folder you "
                       f"can write to")
    if Path(path).is_dir():
        raise CLIError(f"{option} {path} is a folder; give a file name, e.g. {Path(path) / 'out.png'}")


def shipped_checkpoint(name: str) -> Path | None:
    """The folder of a shipped checkpoint (see ``minitransformers.shipped_path``), or None if it is missing."""
    try:
        return shipped_path(name)
    except CheckpointNotFoundError:
        return None


def resolve_model(name_or_path: str) -> Path:
    """A ``--model`` value -> a checkpoint folder: a local folder, or a shipped name (``shipped_path``)."""
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise CLIError(f"{local} has no config.json; expected a Hugging Face-format checkpoint folder")
        return local
    try:
        return shipped_path(name_or_path)
    except CheckpointNotFoundError as error:
        from ..pretrained.hub import _close_matches

        raise CLIError(f"model {name_or_path!r} is neither a local folder{_close_matches(local)} nor a shipped "
                       f"checkpoint: {error}") from None


def load_tokenizer_for(folder: Path):
    """The tokenizer saved next to a checkpoint."""
    try:
        from ..tokenizers import load_tokenizer
    except ImportError as error:
        raise CLIError(f"cannot load a tokenizer: minitransformers.tokenizers is not available ({error})") from None
    try:
        return load_tokenizer(folder)
    except (FileNotFoundError, ValueError) as error:
        raise CLIError(f"cannot load the tokenizer in {folder}: {error}") from None


def load_model(model_class, folder: Path, device: torch.device):
    """``model_class.from_pretrained(folder)`` in eval mode on ``device``, with user-facing errors."""
    try:
        model = model_class.from_pretrained(folder)
    except ImportError as error:
        raise CLIError(f"cannot load checkpoints yet: {error}") from None
    except (FileNotFoundError, ValueError, KeyError) as error:  # CheckpointError is a ValueError
        raise CLIError(f"cannot load {model_class.__name__} from {folder}: {error}") from None
    return model.to(device).eval()


def model_family(folder: Path) -> str:
    """``"bert"`` or ``"gpt"``, from the checkpoint's ``config.json`` (``model_type``)."""
    import json

    try:
        model_type = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError) as error:
        raise CLIError(f"cannot read {folder / 'config.json'}: {error}") from None
    if model_type == "bert":
        return "bert"
    if model_type in ("gpt2", "gpt"):
        return "gpt"
    raise CLIError(f"{folder} holds a {model_type!r} model; minitransformers reads 'bert' and 'gpt2'")


def load_model_and_tokenizer(name_or_path: str, device: torch.device, bert_class=None, gpt_class=None):
    """Resolve ``--model``, pick the class for its family, load model and tokenizer.

    A family whose class is None is refused (e.g. ``fill-mask`` needs a BERT).
    """
    folder = resolve_model(name_or_path)
    family = model_family(folder)
    model_class = bert_class if family == "bert" else gpt_class
    if model_class is None:
        wanted = "a BERT" if family == "gpt" else "a GPT"
        raise CLIError(f"{folder.name} is a {family.upper()} checkpoint; this command needs {wanted} one")
    return load_model(model_class, folder, device), load_tokenizer_for(folder)


def pick_device(name: str | None) -> torch.device:
    """``--device``: ``cpu``, ``cuda``, ``cuda:1``, ``mps``; default: cuda when available."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise CLIError(f"unknown device {name!r}; use cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise CLIError(f"--device {name} asked for CUDA but torch sees no GPU; use --device cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise CLIError(f"--device {name} asked for Apple MPS but it is not available; use --device cpu")
    return device


def set_seed(seed: int | None) -> None:
    """Seed torch so that sampling and random initialisation repeat from run to run."""
    if seed is not None:
        torch.manual_seed(seed)


def use_file_backend() -> None:
    """Draw figures to files only: the CLI may run where there is no display."""
    import matplotlib

    matplotlib.use("Agg")
