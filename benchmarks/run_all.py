"""Run every benchmark and print one table of ratios, all measured in this run on this machine.

Run:  python benchmarks/run_all.py [--quick] [--device auto|cpu|cuda] [--threads N] [--only NAME ...]

Benchmarks (``--only`` takes these names): ``forward`` (ours vs
``transformers``, forward and forward+backward), ``training`` (tokens/s and
MFU), ``generation`` (tokens/s with and without the KV cache, vs
``transformers.generate``), ``memory`` (peak memory, KV-cache growth),
``tokenizers`` (ours vs Hugging Face ``tokenizers``).

``--quick`` is a short pass (small shapes, fewer repeats, a slice of the
corpus) that finishes in a few minutes on a 2-core CPU; the full run uses
GPT-2-small / BERT-base shapes too and takes much longer. A benchmark that
fails prints its error and the others still run; the exit status is 1 then.
"""

from __future__ import annotations

import argparse
import time
import traceback

from common import Row, format_table, machine_description, resolve_device

import torch

BENCHMARKS = ("forward", "training", "generation", "memory", "tokenizers")


def run_one(name: str, device: torch.device, quick: bool) -> list[Row]:
    """Import the benchmark's module only when it runs, so ``--only`` skips its imports."""
    if name == "forward":
        import bench_forward

        return bench_forward.run(device, quick)
    if name == "training":
        import bench_training

        return bench_training.run(device, quick)
    if name == "generation":
        import bench_generation

        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        return bench_generation.run(device, quick, dtype=dtype, repeats=3,
                                    skip_no_cache_above=None if quick else 256)
    if name == "memory":
        import bench_memory

        return bench_memory.run(device, quick)
    if name == "tokenizers":
        import bench_tokenizers

        # The full run trains BPE on all of Shakespeare (minutes, pure Python); quick uses a tenth.
        return bench_tokenizers.run(2000, 0.1, show_progress=False) if quick else bench_tokenizers.run(8000)
    raise ValueError(f"unknown benchmark {name!r}; choose from {BENCHMARKS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short pass (a few minutes on 2 CPU cores)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice; set OMP_NUM_THREADS too)")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS),
                        help="run only these benchmarks")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    description = machine_description(device)
    print(description + "\n")

    rows, failed, started = [], [], time.perf_counter()
    for name in args.only:
        print(f"=== {name} ===", flush=True)
        begin = time.perf_counter()
        try:
            rows += run_one(name, device, args.quick)
        except Exception:  # one broken benchmark must not hide the others' numbers
            traceback.print_exc()
            failed.append(name)
        print(f"({name}: {time.perf_counter() - begin:.0f} s)\n", flush=True)

    print("=" * 40 + " summary " + "=" * 40)
    print(description)
    print(f"mode: {'quick' if args.quick else 'full'}; total {time.perf_counter() - started:.0f} s; "
          "ratio = ours / reference, all measured in this run\n")
    print(format_table(rows))
    if failed:
        print(f"\nFAILED: {', '.join(failed)} (tracebacks above)")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
