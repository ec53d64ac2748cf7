"""Pick a device and a dtype for notebooks and the command line, and say what was picked.

``auto`` prefers CUDA, then Apple's MPS, then the CPU. Half precision is
only chosen where it is fast and safe: bfloat16 on GPUs that support it;
float32 elsewhere (CPU half-precision matmuls are slow, and MPS has known
bfloat16 gaps in older PyTorch releases).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
DTYPES = {
    "float32": torch.float32, "fp32": torch.float32,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
    "float16": torch.float16, "fp16": torch.float16,
}


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(choice: str = "auto", verbose: bool = False) -> torch.device:
    """Resolve ``auto|cpu|cuda|mps`` (or ``cuda:1``) to an available ``torch.device``."""
    name = choice.split(":")[0]
    if name not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {choice!r}; choose one of {DEVICE_CHOICES}")
    if name == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "mps" if _mps_available() else "cpu")
    elif name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but torch sees no CUDA GPU; use --device cpu or auto")
    elif name == "mps" and not _mps_available():
        raise ValueError("device 'mps' was asked for, but this machine has no Apple MPS backend; use cpu or auto")
    else:
        device = torch.device(choice)
    if verbose:
        print(f"minitransformers: using device {describe_device(device)}")
    return device


def pick_dtype(choice: str = "auto", device: torch.device | str = "cpu", verbose: bool = False) -> torch.dtype:
    """Resolve ``auto|float32|bfloat16|float16`` for ``device``."""
    device = torch.device(device)
    if choice == "auto":
        dtype = torch.float32
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            dtype = torch.bfloat16
    elif choice in DTYPES:
        dtype = DTYPES[choice]
    else:
        raise ValueError(f"unknown dtype {choice!r}; choose one of {['auto', *DTYPES]}")
    if dtype == torch.float16 and device.type == "cpu":
        raise ValueError("float16 on the CPU is slow and poorly supported; use bfloat16 or float32 there")
    if verbose:
        print(f"minitransformers: using dtype {str(dtype).replace('torch.', '')}")
    return dtype


def cpu_model() -> str:
    """The CPU's name from ``/proc/cpuinfo`` (e.g. ``AMD EPYC``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_device(device: torch.device | str) -> str:
    """A human-readable description, e.g. ``cuda (NVIDIA H100 80GB HBM3)`` or
    ``cpu (AMD EPYC, 2 logical cores, 2 threads)``: a model card names the machine it was trained on."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({cpu_model()}, {os.cpu_count()} logical cores, {torch.get_num_threads()} threads)"
    return device.type
