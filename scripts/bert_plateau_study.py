"""Why mini-BERT stays on the unigram plateau: the training recipe, one change at a time, on a CPU.

Every run trains a small mini-BERT (4 layers x 256 wide, context 128, as the
first shipped mini-BERT) from the same initial weights on the training plays,
and scores it at fixed step counts on the held-out plays the way the model
cards do: 15% of the tokens selected, every selected token replaced by
``<mask>``, top-1 accuracy. Each variation changes one thing of the recipe as
shipped (or, for ``known_good``, goes back to the first shipped recipe). A run
follows the first steps of its recipe's whole schedule (6,000 steps, 300 of
warm-up, as shipped), so the learning rate at step 400 is the shipped run's at
step 400, not the end of a short cosine.

    python scripts/bert_plateau_study.py                       # every variation (hours on 2 cores)
    python scripts/bert_plateau_study.py shipped no_nsp --steps 400
    python scripts/bert_plateau_study.py --table               # the table of the runs saved so far
    python scripts/bert_plateau_study.py --curves study.png    # and their curves

Results go to ``runs/plateau_study/<variation>-<steps>.json`` (one file per run,
so an interrupted study continues where it stopped). The recipe's README
(``minitransformers/recipes/README.md``) quotes this script's table.

Speed: the MLM head runs only at the masked positions (``MaskedPositionsLoss``);
the loss and its gradients are those of ``BertForPreTraining(**batch).loss``
(``tests/test_masked_positions.py`` checks it), at about half the cost (``benchmarks/bench_pair_step.py``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from common import cpu_model  # noqa: E402  (the benchmarks' machine name, so both name it alike)
from plateau_recipe import (  # noqa: E402  (the script's own helper module)
    VARIATIONS, Recipe, StudyData, train_and_score, unigram_baselines,
)

RESULTS = Path("runs") / "plateau_study"


def _result_path(name: str, steps: int, folder: Path) -> Path:
    return folder / f"{name}-{steps}.json"


def run(names: list[str], steps: int, eval_every: int, folder: Path, threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)
    folder.mkdir(parents=True, exist_ok=True)
    data = StudyData()
    for name in names:
        path = _result_path(name, steps, folder)
        if path.exists():
            print(f"{name}: already done ({path})", flush=True)
            continue
        recipe = Recipe().changed(**VARIATIONS[name][1])
        print(f"{name}: {VARIATIONS[name][0]} ...", flush=True)
        started = time.time()
        curve = train_and_score(recipe, data, steps, eval_every, log=lambda text: print(f"  {text}", flush=True))
        record = {"variation": name, "what": VARIATIONS[name][0], "recipe": dataclasses.asdict(recipe),
                  "steps": steps, "curve": curve, "wall_time_s": round(time.time() - started, 1),
                  "threads": torch.get_num_threads(), "machine": f"{cpu_model()}, {os.cpu_count()} logical cores",
                  "baselines": unigram_baselines(data, recipe)}
        path.write_text(json.dumps(record, indent=1))
        print(f"{name}: {curve[-1]['accuracy']:.1%} at step {steps} ({record['wall_time_s']:.0f} s)", flush=True)


def load_results(folder: Path) -> list[dict]:
    order = {name: i for i, name in enumerate(VARIATIONS)}
    records = [json.loads(path.read_text()) for path in folder.glob("*.json")]
    return sorted(records, key=lambda r: (r["steps"], order.get(r["variation"], len(order))))


# A run has left the plateau once it is this far above always guessing the most frequent token.
PLATEAU_MARGIN = 0.03


def plateau_exit_step(record: dict) -> int | None:
    """The first scored step at which the run beats the always-the-top-token baseline by
    ``PLATEAU_MARGIN`` (3 points), or None if it never does within its steps."""
    threshold = record["baselines"]["most_frequent"] + PLATEAU_MARGIN
    return next((point["step"] for point in record["curve"] if point["accuracy"] >= threshold), None)


def print_table(records: list[dict]) -> None:
    """One table per run length, best final accuracy first; five evenly spaced scored steps as columns."""
    if not records:
        print("no results yet: run the study first")
        return
    # Most runs share the study's held-out windows; a run with another context or tokenisation
    # is scored on its own windows, so its baselines are printed too and its rows are marked.
    def windows(record: dict) -> tuple[int, int]:
        return record["recipe"]["block_size"], record["baselines"]["tokens"]

    runs_by_windows: dict[tuple[int, int], list[dict]] = {}
    for record in records:
        runs_by_windows.setdefault(windows(record), []).append(record)
    main_windows = max(runs_by_windows, key=lambda key: len(runs_by_windows[key]))
    for key, runs in sorted(runs_by_windows.items(), key=lambda item: item[0] != main_windows):
        baselines = runs[0]["baselines"]
        text = (f"unigram baselines on the held-out plays (context {key[0]}, {key[1]} masked tokens): "
                f"always the most frequent token ({baselines['top_token']!r}) {baselines['most_frequent']:.1%}; "
                f"a guess drawn by training frequency {baselines['by_frequency']:.1%}; "
                f"the unigram loss {baselines['loss']:.2f}.")
        if key == main_windows:
            print(text[0].upper() + text[1:])
        else:
            print(f"For {', '.join(sorted({run['variation'] for run in runs}))}: {text}")
    print(f"'Leaves the plateau' = first step at least {PLATEAU_MARGIN * 100:.0f} points above always the "
          "most frequent token of the run's own held-out windows.")
    machines = sorted({record.get("machine", "not recorded") for record in records})
    print(f"Machines: {'; '.join(machines)}. Minutes are wall-clock, so they also show what else ran beside.")
    for steps in sorted({record["steps"] for record in records}):
        group = [record for record in records if record["steps"] == steps]
        group.sort(key=lambda record: -record["curve"][-1]["accuracy"])
        scored = sorted({point["step"] for record in group for point in record["curve"]})
        step_columns = sorted({scored[round(len(scored) * fifth / 5) - 1] for fifth in range(1, 6)})
        print(f"\n{steps} steps:\n")
        print("| variation | what changes | " + " | ".join(f"step {s}" for s in step_columns)
              + " | held-out loss | leaves the plateau | top guess ⏎ | minutes |")
        print("|---|---|" + "---:|" * len(step_columns) + "---:|---:|---:|---:|")
        for record in group:
            accuracy = {point["step"]: point["accuracy"] for point in record["curve"]}
            cells = [f"{accuracy[s]:.1%}" if s in accuracy else "" for s in step_columns]
            own = record["baselines"]
            if windows(record) != main_windows:  # another tokenisation or context: its own baseline
                cells[-1] += f" (unigram {own['most_frequent']:.1%})"
            exit_step = plateau_exit_step(record)
            last = record["curve"][-1]
            print(f"| {record['variation']} | {record['what']} | " + " | ".join(cells)
                  + f" | {last['loss']:.2f} | {exit_step if exit_step is not None else 'not yet'}"
                  + f" | {last['newline_guess_share']:.0%} | {record['wall_time_s'] / 60:.1f} |")


def plot_curves(records: list[dict], path: Path, names: list[str] | None) -> None:
    """The held-out accuracy curves of the longest runs (of ``names`` if given) against the baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = [r for r in records if not names or r["variation"] in names]
    if not chosen:
        _fail("no saved runs to draw: run the study first")
    longest = max(record["steps"] for record in chosen)
    chosen = [record for record in chosen if record["steps"] == longest]
    chosen.sort(key=lambda record: -record["curve"][-1]["accuracy"])  # legend in the order of the lines' ends
    figure, axis = plt.subplots(figsize=(10, 6.5), dpi=100)
    for record in chosen:
        steps = [point["step"] for point in record["curve"]]
        recipe = record["recipe"]
        label = record["variation"]  # the table says what each changes; the legend stays short
        if any(recipe[size] != getattr(Recipe(), size) for size in ("n_layers", "hidden_size", "block_size")):
            label += f" ({recipe['n_layers']} x {recipe['hidden_size']}, context {recipe['block_size']})"
        axis.plot(steps, [100 * point["accuracy"] for point in record["curve"]], marker="o",
                  linewidth=3 if record["variation"] in ("shipped", "fixed") else 1.5, label=label)
    baseline = chosen[0]["baselines"]["most_frequent"] * 100
    axis.axhline(baseline, color="grey", linestyle="--", label=f"unigram: always the top token ({baseline:.1f}%)")
    axis.set_xlabel("optimizer step (batch of 32 sequences)", fontsize=13)
    axis.set_ylabel("masked-token accuracy on held-out plays (%)", fontsize=13)
    axis.set_title("mini-BERT (4 x 256, context 128) leaving the unigram plateau\n"
                   "held-out plays, 15% of tokens hidden, all as <mask>", fontsize=14)
    axis.tick_params(labelsize=12)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=12, loc="upper left")
    figure.tight_layout()
    figure.savefig(path)
    print(f"wrote {path}")


def _fail(message: str) -> None:
    print(f"bert_plateau_study: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variations", nargs="*", help=f"which to run (default: all): {', '.join(VARIATIONS)}")
    parser.add_argument("--steps", type=int, default=600, help="optimizer steps per run (default 600)")
    parser.add_argument("--eval-every", type=int, default=100, help="steps between scores (default 100)")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"results folder (default {RESULTS})")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--table", action="store_true", help="only print the table of saved results")
    parser.add_argument("--curves", type=Path, help="also draw the curves of the saved runs into this PNG")
    parser.add_argument("--only", nargs="*", help="with --curves: the variations to draw")
    args = parser.parse_args(argv)
    unknown = [name for name in [*args.variations, *(args.only or [])] if name not in VARIATIONS]
    if unknown:
        _fail(f"unknown variation {', '.join(map(repr, unknown))}; choose from {', '.join(VARIATIONS)}")
    if args.steps < 1 or args.eval_every < 1:
        _fail(f"--steps and --eval-every must be at least 1, got {args.steps} and {args.eval_every}")
    if args.threads is not None and args.threads < 1:
        _fail(f"--threads must be at least 1, got {args.threads}")
    if not args.table and not args.curves:
        run(args.variations or list(VARIATIONS), args.steps, args.eval_every, args.results, args.threads)
    records = load_results(args.results)
    print_table(records)
    if args.curves:
        plot_curves(records, args.curves, args.only)


if __name__ == "__main__":
    main()
