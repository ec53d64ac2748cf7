"""Turning what the user passed (a directory, or a hub name like ``"gpt2"``) into a local directory.

A local directory always wins. A name that looks like a local path (it starts
with ``.``, ``/`` or ``~``, has more than one ``/``, or its first part is a
folder here, as in ``weights/mini-gpt``) and is not a directory is a typo:
the error lists the close matches. Any other name is looked up
on the Hugging Face hub with ``huggingface_hub.snapshot_download``, if that
package is installed and the network allows (its cache is used first).
Anything that goes wrong there becomes one short error that says how to
pass a local directory instead.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

from .report import CheckpointError, CheckpointNotFoundError

# A hub name: "gpt2" or "owner/name" (letters, digits, "-", "_", ".").
_HUB_NAME = re.compile(r"^[\w.-]+(/[\w.-]+)?$")


def resolve_checkpoint_dir(name_or_path: str | Path) -> Path:
    """A local directory holding ``config.json`` and weights, downloading it if needed."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            raise CheckpointError(
                f"no permission to open the folder {path}; fix its permissions (e.g. `chmod a+rx {path}`) "
                f"or run as a user who may read it"
            )
        return path
    if path.is_file():
        raise CheckpointNotFoundError(
            f"{path} is a file; pass the directory that holds config.json and the weights: {path.parent}"
        )
    name = str(name_or_path)
    if isinstance(name_or_path, Path) or not _HUB_NAME.match(name) or _looks_local(name):
        raise CheckpointNotFoundError(
            f"no directory {path}{_close_matches(path)}; pass the path of a checkpoint directory"
        )
    return _download(name)


def _looks_local(name: str) -> bool:
    """True for a name the user meant as a path: ``./x``, ``/x``, ``~/x``, ``a/b/c``, ``weights/x``."""
    first = name.split("/")[0]
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or ("/" in name and Path(first).is_dir())


def _close_matches(path: Path) -> str:
    """``" (did you mean weights/mini-gpt-shakespeare?)"``, from the deepest folder that exists."""
    parent = path.parent
    while not parent.is_dir() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return ""
    try:
        names = [p.name for p in parent.iterdir() if p.is_dir()]
    except OSError:
        return ""
    relative = path.relative_to(parent) if path.is_relative_to(parent) else path
    wanted = relative.parts[0] if relative.parts else path.name
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    close += [n for n in names if n.startswith(wanted) and n not in close]
    if not close:
        return ""
    return f" (did you mean {' or '.join(str(parent / n) for n in close[:3])}?)"


def _how_to_get(name: str, reason: str) -> str:
    return (
        f"{name!r} is not a local directory, and downloading it from the Hugging Face hub "
        f"failed ({reason}). Download it on a machine with internet access, e.g. "
        f"`hf download {name} --local-dir {name.split('/')[-1]}`, copy that folder "
        f"here and pass its path: from_pretrained('path/to/{name.split('/')[-1]}')"
    )


def _download(name: str) -> Path:
    """``snapshot_download`` the config and weights only (safetensors if the repo has them)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise CheckpointNotFoundError(_how_to_get(name, "huggingface_hub is not installed")) from None
    try:
        folder = Path(snapshot_download(name, allow_patterns=["config.json", "model.safetensors"]))
        if not (folder / "model.safetensors").is_file():
            folder = Path(snapshot_download(name, allow_patterns=["config.json", "pytorch_model.bin"]))
    except Exception as error:  # noqa: BLE001 -- offline, unknown repo, gated repo, ...: all mean "not available"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointNotFoundError(_how_to_get(name, f"{type(error).__name__}: {reason[:200]}")) from None
    return folder
