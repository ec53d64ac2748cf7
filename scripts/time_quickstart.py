"""Time README's first look and the demo, and print the README's sentence with the machine it ran on.

    python scripts/time_quickstart.py            # 5 runs of each, the medians
    python scripts/time_quickstart.py --quick    # 1 run of each: checks that it works

Each run is a fresh Python process from the repository root, as a reader runs
them: the "A first look" code block of README.md saved as a script, then
``python -m minitransformers demo`` (its pictures go to a temporary folder).
Wall-clock seconds, interpreter start and imports included. Run it on a quiet
machine: the load average printed beside the numbers says how quiet it was.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
# The README's sentence; the script prints it with the numbers filled in.
SENTENCE = ("Saved as a script, this runs in {first_look} and `python -m minitransformers demo` in "
            "{demo} (medians of {runs} runs, `python scripts/time_quickstart.py`, on {machine}).")


def first_look_snippet(readme: Path = README) -> str:
    """The code block under README's "## A first look" heading."""
    text = readme.read_text(encoding="utf-8")
    section = text.split("## A first look", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    if found is None:
        raise ValueError(f"{readme} has no ```python block under '## A first look'")
    return found.group(1)


def machine() -> str:
    """The CPU model, its cores and the load average: 'AMD EPYC, 2 cores, load 0.1'."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), flags=re.MULTILINE)
        model = names[0].strip() if names else model
    load = f", load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"{model}, {os.cpu_count()} cores{load}"


def commands(script: Path, output_dir: Path) -> dict[str, list[str]]:
    return {"first_look": [sys.executable, str(script)],
            "demo": [sys.executable, "-m", "minitransformers", "demo", "--output-dir", str(output_dir)]}


def wall_clock(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--quick", action="store_true", help="one run of each, to check that it works")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    if runs < 1:
        parser.error(f"--runs must be at least 1, got {runs}")
    where = machine()  # before the runs: the load average then says how quiet the machine was
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "first_look.py"
        script.write_text(first_look_snippet(), encoding="utf-8")
        medians = {}
        for name, command in commands(script, Path(folder) / "demo_output").items():
            times = [wall_clock(command) for _ in range(runs)]
            medians[name] = statistics.median(times)
            print(f"{name}: " + ", ".join(f"{t:.1f} s" for t in times), file=sys.stderr)
    print(SENTENCE.format(first_look=f"{medians['first_look']:.1f} s", demo=f"{medians['demo']:.1f} s",
                          runs=runs, machine=where))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
