"""What every benchmark shares: a timer, the machine's description, peak-memory readings, result rows.

Timing rules, the same for every number in ``run_all.py``'s table:

* warm-up calls first (the first call pays for kernel selection, the
  allocator growing and Python caches), then ``repeats`` timed calls;
* the **median** of the timed calls, because the machine is shared and an
  unlucky call (another process took the core) should not move the result;
* on CUDA, ``torch.cuda.synchronize`` before starting and before stopping the
  clock: kernels run asynchronously, so without it we would time the launch.

Memory: *peak resident set size* (RSS, what the process held in RAM at its
worst) from ``/proc/self/status`` (``VmHWM``), which Linux lets us reset
between measurements; and on CUDA ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch


@dataclass
class Row:
    """One line of the summary table: ours against a reference (or a goal), measured in this run.

    ``ratio`` is always "higher is better for ours" when ``higher_is_better``
    (speeds: ours / reference) and "lower is better" otherwise (times,
    memory: ours / reference). ``reference`` may be None for a figure that has
    no reference (then ``ratio`` is None too, or a ratio to a stated goal).
    """

    benchmark: str
    setting: str
    ours: float
    reference: float | None
    unit: str
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.reference is None or self.reference == 0:
            return None
        return self.ours / self.reference


def resolve_device(name: str) -> torch.device:
    """``"auto"`` -> cuda when available, else cpu; ``"cuda"`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda was asked for, but torch sees no GPU; use --device cpu or auto")
    return device


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so the clock measures the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_time(
    fn: Callable[[], object], device: torch.device, *, warmup: int = 1, repeats: int = 5
) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare_times(
    fns: dict[str, Callable[[], object]], device: torch.device, *, warmup: int = 1, repeats: int = 5
) -> dict[str, float]:
    """Median seconds of each ``fns[name]()``, timed round-robin (a, b, a, b, ...).

    Interleaving means a burst of load from another process on this shared
    machine slows every contestant alike, instead of whichever ran then.
    """
    rounds = round_times(fns, device, warmup=warmup, repeats=repeats)
    return {name: statistics.median(values) for name, values in rounds.items()}


def round_times(
    fns: dict[str, Callable[[], object]], device: torch.device, *, warmup: int = 1, repeats: int = 5
) -> dict[str, list[float]]:
    """Seconds of each ``fns[name]()`` in every round of a round-robin (see ``compare_times``)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return times


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (falls back to ``platform.processor()``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description(device: torch.device) -> str:
    """One paragraph that says where the numbers come from."""
    import transformers

    lines = [
        f"CPU: {cpu_model()}, {os.cpu_count()} logical cores; torch threads {torch.get_num_threads()} "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})",
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"transformers {transformers.__version__}, {platform.system()} {platform.release()}",
        f"device: {device}",
    ]
    if device.type == "cuda":
        properties = torch.cuda.get_device_properties(device)
        lines.append(
            f"GPU: {properties.name}, {properties.total_memory / 2**30:.0f} GiB, "
            f"CUDA {torch.version.cuda}, TF32 matmul {torch.backends.cuda.matmul.allow_tf32}"
        )
    return "\n".join(lines)


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter for this process (Linux >= 4.0); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """Peak resident memory of this process since the last reset (or since start)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux, bytes on macOS; it cannot be reset.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def current_rss_bytes() -> int:
    """Resident memory of this process right now."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return peak_rss_bytes()


def measure_peak_memory(fn: Callable[[], object], device: torch.device) -> tuple[int, int | None]:
    """``(rise of peak RSS above the RSS before the call, CUDA max allocated or None)`` for ``fn()``.

    The RSS rise is what ``fn`` added on top of what the process already
    held (the Python interpreter, torch, the model's weights); it counts
    freed-and-reused pages once, which is what "peak" should mean.
    """
    import gc

    gc.collect()
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    before = current_rss_bytes()
    reset_peak_rss()
    fn()
    synchronize(device)
    rss_rise = max(0, peak_rss_bytes() - before)
    cuda_peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    return rss_rise, cuda_peak


def mib(n_bytes: float | None) -> float | None:
    return None if n_bytes is None else n_bytes / 2**20


def format_table(rows: list[Row]) -> str:
    """The summary table: one row per figure, the ratio and which way is better."""
    header = f"{'benchmark':<11} {'setting':<46} {'ours':>11} {'reference':>11} {'unit':<9} {'ratio':>7}  better"
    lines = [header, "-" * len(header)]
    for row in rows:
        reference = "-" if row.reference is None else f"{row.reference:11.4g}"
        ratio = "-" if row.ratio is None else f"{row.ratio:7.2f}"
        better = "higher" if row.higher_is_better else "lower"
        line = (f"{row.benchmark:<11} {row.setting:<46} {row.ours:11.4g} {reference:>11} "
                f"{row.unit:<9} {ratio:>7}  {better}")
        if row.note:
            line += f"  ({row.note})"
        lines.append(line)
    return "\n".join(lines)


def standalone_main(doc: str, run: Callable[[torch.device, bool], list], quick_help: str) -> None:
    """Command line of a benchmark script run on its own: ``--quick`` and ``--device``, then a table."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    args = parser.parse_args()
    device = resolve_device(args.device)
    print(machine_description(device) + "\n")
    print("\n" + format_table(run(device, args.quick)))
