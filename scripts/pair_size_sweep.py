"""Which size should the laptop pair have? The same CPU budget for every size, mini-BERT and mini-GPT.

Every size gets the same wall-clock budget on this CPU. The budget becomes a
number of optimizer steps by timing mini-BERT's step at that size first
(after the compile warm-up), so the schedule (6% warm-up, a cosine to lr/10
at the last step) is sized for the run it belongs to and nothing running
beside the sweep later changes how far a run gets. mini-GPT then gets the
same size, tokenizer, plays, batch shape and number of steps as mini-BERT.

mini-BERT trains with the fixed recipe of the plateau study (no dropout, 40%
masked, sparse prediction, bf16 autocast, compile); both are scored on the
same held-out windows of 128 tokens at every tenth of the run:

* mini-BERT: masked-token accuracy, 15% of the tokens selected, every one ``<mask>``;
* mini-GPT: the loss on held-out windows of 128 tokens;
* at the end, both on the same hidden tokens (``both_sides_metrics``).

    python scripts/pair_size_sweep.py --budget-minutes 12            # every size, BERT then GPT
    python scripts/pair_size_sweep.py 4x256@128 --models bert
    python scripts/pair_size_sweep.py --table                       # the table of the runs saved so far
    python scripts/pair_size_sweep.py --curves sweep.png

Results go to ``runs/pair_sweep/<size>-<model>.json``, one file per run, so an
interrupted sweep continues where it stopped. The recipes README quotes the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plateau_recipe import Recipe, StudyData, build_model, score, unigram_baselines  # noqa: E402

from minitransformers import GPTConfig, GPTLMHeadModel  # noqa: E402
from minitransformers.device import cpu_model  # noqa: E402
from minitransformers.recipes.evaluation import both_sides_metrics  # noqa: E402
from minitransformers.recipes.shakespeare_data import causal_lm_dataset  # noqa: E402
from minitransformers.training import TrainConfig, Trainer, seed_everything  # noqa: E402
from minitransformers.training.masked_positions import MaskedPositionsLoss  # noqa: E402

RESULTS = Path("runs") / "pair_sweep"
# name -> model shape; every size has heads of 64 dimensions.
SIZES = {
    "4x256@128": dict(n_layers=4, hidden_size=256, n_heads=4, block_size=128),
    "6x256@128": dict(n_layers=6, hidden_size=256, n_heads=4, block_size=128),
    "4x320@128": dict(n_layers=4, hidden_size=320, n_heads=5, block_size=128),
    "4x256@256": dict(n_layers=4, hidden_size=256, n_heads=4, block_size=256),
}
SCORED_CONTEXT = 128  # every size is scored on the same windows
GPT_EVAL_WINDOWS = 256
SWEEP_GPT_DROPOUT = 0.1  # mini-GPT's dropout at every size; other rates are extra rows ("gpt-dropout0.2")


def run_name(kind: str, gpt_dropout: float) -> str:
    """``bert``, ``gpt``, or ``gpt-dropout0.2`` for a mini-GPT run at another dropout than the sweep's."""
    return kind if kind == "bert" or gpt_dropout == SWEEP_GPT_DROPOUT else f"gpt-dropout{gpt_dropout:g}"
WARMUP_SHARE = 0.06  # Izsak et al. 2021: warm-up over about 6% of the budget


def bert_recipe(size: str) -> Recipe:
    """The plateau study's fixed recipe at ``size``: no dropout, 40% masked."""
    return Recipe(dropout=0.0, mask_rate=0.40, **SIZES[size])


def _train_config(steps: int, recipe: Recipe) -> TrainConfig:
    return TrainConfig(
        max_steps=steps, batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
        min_learning_rate=recipe.learning_rate / 10, warmup_steps=max(1, round(WARMUP_SHARE * steps)),
        weight_decay=0.1, beta2=0.95, eval_every=0, log_every=50, device="cpu", seed=0,
        autocast_dtype="bfloat16", compile=True, progress=False,
    )


def time_bert_step(recipe: Recipe, data: StudyData, warmup: int = 8, timed: int = 30) -> float:
    """Seconds per mini-BERT optimizer step at ``recipe``'s size (median of ``timed`` after ``warmup``)."""
    trainer = Trainer(MaskedPositionsLoss(build_model(recipe, data)), data.dataset(recipe, "train"),
                      _train_config(10_000, recipe))
    trainer.train(until_step=warmup)
    times = []
    for _ in range(timed):
        started = time.perf_counter()
        trainer.train(until_step=trainer.step + 1)
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def scored_steps(steps: int) -> list[int]:
    return sorted({max(1, round(steps * tenth / 10)) for tenth in range(1, 11)})


def train_bert(recipe: Recipe, data: StudyData, steps: int, log) -> tuple[list[dict], torch.nn.Module]:
    model = build_model(recipe, data)
    trainer = Trainer(MaskedPositionsLoss(model), data.dataset(recipe, "train"), _train_config(steps, recipe))
    eval_batch = data.eval_batch(dataclasses.replace(recipe, block_size=SCORED_CONTEXT))
    curve = []
    for until in scored_steps(steps):
        trainer.train(until_step=until)
        point = {"step": until, "train_loss": trainer.history[-1]["loss"],
                 **score(model, eval_batch, data.newline_id)}
        curve.append(point)
        log(f"step {until}: train loss {point['train_loss']:.3f}, held-out accuracy {point['accuracy']:.1%}, "
            f"loss {point['loss']:.3f}")
    return curve, model


def gpt_model(recipe: Recipe, data: StudyData, dropout: float) -> GPTLMHeadModel:
    tokenizer = data.tokenizer
    width = recipe.hidden_size
    config = GPTConfig(vocab_size=tokenizer.vocab_size, bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=tokenizer.eos_token_id, hidden_size=width, n_layers=recipe.n_layers,
                       n_heads=recipe.n_heads, intermediate_size=4 * width, max_positions=recipe.block_size,
                       hidden_dropout=dropout, attention_dropout=dropout, attn_impl="sdpa")
    seed_everything(0)
    return GPTLMHeadModel(config)


@torch.no_grad()
def gpt_loss(model: GPTLMHeadModel, dataset, windows: int) -> float:
    model.eval()
    total = count = 0.0
    for start in range(0, min(windows, len(dataset)), 64):
        batch = dataset.batch(torch.arange(start, min(start + 64, windows, len(dataset))))
        loss = model(batch["input_ids"], labels=batch["labels"]).loss
        n = batch["labels"][:, 1:].numel()
        total, count = total + loss.item() * n, count + n
    model.train()
    return total / count


def train_gpt(recipe: Recipe, data: StudyData, steps: int, dropout: float, log) -> tuple[list[dict], torch.nn.Module]:
    model = gpt_model(recipe, data, dropout)
    train_set = causal_lm_dataset(data.tokenizer, data.train_works, recipe.block_size, stride=1)
    eval_set = causal_lm_dataset(data.tokenizer, data.validation_works, SCORED_CONTEXT)
    trainer = Trainer(model, train_set, _train_config(steps, recipe))
    curve = []
    for until in scored_steps(steps):
        trainer.train(until_step=until)
        point = {"step": until, "train_loss": trainer.history[-1]["loss"],
                 "loss": gpt_loss(model, eval_set, GPT_EVAL_WINDOWS)}
        curve.append(point)
        log(f"step {until}: train loss {point['train_loss']:.3f}, held-out loss {point['loss']:.3f}")
    return curve, model


def _timing(size: str, data: StudyData, budget_s: float, folder: Path) -> dict:
    """mini-BERT's step time at ``size`` and the steps that fit the budget (measured once, then read back)."""
    path = folder / f"{size}-timing.json"
    if not path.exists():
        seconds = time_bert_step(bert_recipe(size), data)
        timing = {"bert_step_s": seconds, "budget_s": budget_s, "steps": int(budget_s / seconds) // 50 * 50,
                  "machine": f"{cpu_model()}, {os.cpu_count()} logical cores", "threads": torch.get_num_threads()}
        path.write_text(json.dumps(timing, indent=1))
    timing = json.loads(path.read_text())
    print(f"{size}: mini-BERT step {timing['bert_step_s']:.3f} s -> {timing['steps']} steps in "
          f"{timing['budget_s'] / 60:.0f} minutes", flush=True)
    return timing


def run(sizes: list[str], models: list[str], budget_s: float, folder: Path, gpt_dropout: float) -> None:
    """Time every size first (so that what runs beside the later runs cannot change their steps), then
    train mini-BERT at every size, then mini-GPT, then compare each pair on the same hidden tokens."""
    torch.set_num_threads(os.cpu_count() or 1)  # one thread per core
    folder.mkdir(parents=True, exist_ok=True)
    data = StudyData()
    timings = {size: _timing(size, data, budget_s, folder) for size in sizes}
    for kind in models:
        for size in sizes:
            name = run_name(kind, gpt_dropout)
            path = folder / f"{size}-{name}.json"
            if path.exists():
                print(f"{size} {kind}: already done ({path})", flush=True)
                continue
            recipe, steps, started = bert_recipe(size), timings[size]["steps"], time.time()
            log = lambda text, kind=kind, size=size: print(f"  {size} {kind} {text}", flush=True)  # noqa: E731
            if kind == "bert":
                curve, model = train_bert(recipe, data, steps, log)
                extra = {"baselines": unigram_baselines(data, dataclasses.replace(recipe, block_size=SCORED_CONTEXT))}
            else:
                curve, model = train_gpt(recipe, data, steps, gpt_dropout, log)
                extra = {"dropout": gpt_dropout}
            record = {"size": size, "model": name, "shape": SIZES[size], "steps": steps, "curve": curve,
                      "parameters": model.num_parameters(), "wall_time_s": round(time.time() - started, 1),
                      **timings[size], **extra}
            path.write_text(json.dumps(record, indent=1))
            torch.save(model.state_dict(), folder / f"{size}-{name}.pt")  # the both-sides comparison needs the pair
            print(f"{size} {kind}: done in {record['wall_time_s'] / 60:.1f} min", flush=True)
    for size in sizes:
        both_path = folder / f"{size}-both_sides.json"
        if (gpt_dropout != SWEEP_GPT_DROPOUT or both_path.exists()
                or not all((folder / f"{size}-{kind}.pt").exists() for kind in ("bert", "gpt"))):
            continue
        recipe = bert_recipe(size)
        bert, gpt = build_model(recipe, data), gpt_model(recipe, data, gpt_dropout)
        bert.load_state_dict(torch.load(folder / f"{size}-bert.pt"))
        gpt.load_state_dict(torch.load(folder / f"{size}-gpt.pt"))
        scored_bert, scored_gpt = _at_context(bert, SCORED_CONTEXT + 2), _at_context(gpt, SCORED_CONTEXT)
        numbers = both_sides_metrics(scored_bert, scored_gpt, data.tokenizer, data.validation_works)
        both_path.write_text(json.dumps(numbers, indent=1))
        print(f"{size}: both sides {numbers['bert_both_sides']:.1%}, GPT left only {numbers['gpt_left_only']:.1%}",
              flush=True)


class _at_context:
    """A model seen through a smaller ``config.max_positions``, so ``both_sides_metrics`` cuts the same
    windows for every size."""

    def __init__(self, model, positions: int) -> None:
        self._model, self.config = model, model.config.replace(max_positions=min(positions,
                                                                                model.config.max_positions))
        self.device = model.device

    def __call__(self, *args, **kwargs):
        return self._model(*args, **kwargs)

    def eval(self):
        self._model.eval()
        return self


def load_results(folder: Path) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for size in SIZES:
        for part in ("bert", "gpt", "both_sides"):
            path = folder / f"{size}-{part}.json"
            if path.exists():
                found.setdefault(size, {})[part] = json.loads(path.read_text())
        others = {float(path.stem.split("dropout")[1]): json.loads(path.read_text())
                  for path in folder.glob(f"{size}-gpt-dropout*.json")}
        if others and "gpt" in found.get(size, {}):
            found[size]["dropouts"] = dict(sorted({SWEEP_GPT_DROPOUT: found[size]["gpt"], **others}.items()))
    return found


def rising(curve: list[dict], key: str) -> float:
    """How much ``key`` moved over the last fifth of the run (per 1,000 steps)."""
    last, earlier = curve[-1], curve[-3] if len(curve) >= 3 else curve[0]
    return 1000 * (last[key] - earlier[key]) / max(1, last["step"] - earlier["step"])


def print_table(results: dict[str, dict]) -> None:
    if not results:
        print("no results yet: run the sweep first")
        return
    machines = sorted({part.get("machine", "?") for runs in results.values() for part in runs.values()
                       if isinstance(part, dict) and "machine" in part})
    print(f"Machine: {'; '.join(machines)}. Every size: the same wall-clock budget for mini-BERT's steps; "
          f"mini-GPT the same steps. Scored on held-out windows of {SCORED_CONTEXT} tokens.")
    first_bert = next((runs["bert"] for runs in results.values() if "bert" in runs), None)
    if first_bert:
        base = first_bert["baselines"]
        print(f"Unigram levels: always {base['top_token']!r} {base['most_frequent']:.1%} of the masked tokens; "
              f"unigram loss {base['loss']:.2f}.")
    print()
    print("| size | parameters (BERT) | BERT step | steps | BERT accuracy at 50% / 80% / 100% of the steps "
          "| rising (points per 1,000 steps, last fifth) | GPT held-out loss at 100% | both sides: BERT / GPT "
          "| minutes BERT / GPT |")
    print("|---|---:|---:|---:|---|---:|---:|---|---|")
    for size, runs in results.items():
        bert, gpt, both = runs.get("bert"), runs.get("gpt"), runs.get("both_sides")
        cells = [size, "", "", "", "", "", "", "", ""]
        if bert:
            curve = bert["curve"]
            pick = [curve[len(curve) // 2 - 1], curve[round(len(curve) * 0.8) - 1], curve[-1]]
            cells[1] = f"{bert.get('parameters', 0) / 1e6:.1f} M" if bert.get("parameters") else ""
            cells[2] = f"{bert['bert_step_s']:.2f} s"
            cells[3] = f"{bert['steps']:,}"
            cells[4] = " / ".join(f"{point['accuracy']:.1%}" for point in pick)
            cells[5] = f"{100 * rising(curve, 'accuracy'):+.1f}"
        if gpt:
            cells[6] = f"{gpt['curve'][-1]['loss']:.3f}"
        if both:
            cells[7] = f"{both['bert_both_sides']:.1%} / {both['gpt_left_only']:.1%}"
        cells[8] = " / ".join(f"{runs[k]['wall_time_s'] / 60:.1f}" if k in runs else "-" for k in ("bert", "gpt"))
        print("| " + " | ".join(cells) + " |")
    for size, runs in results.items():
        if "dropouts" not in runs:
            continue
        print(f"\nmini-GPT's dropout at {size}, {runs['gpt']['steps']:,} steps (held-out loss on windows of "
              f"{SCORED_CONTEXT}; train loss with dropout on):\n")
        print("| dropout | held-out loss at 50% / 100% of the steps | train loss at 100% |")
        print("|---:|---|---:|")
        for rate, record in runs["dropouts"].items():
            curve = record["curve"]
            print(f"| {rate:g} | {curve[len(curve) // 2 - 1]['loss']:.3f} / {curve[-1]['loss']:.3f} "
                  f"| {curve[-1]['train_loss']:.3f} |")


def plot_curves(results: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 6), dpi=100)
    for size, runs in results.items():
        if "bert" in runs:
            curve = runs["bert"]["curve"]
            minutes = [point["step"] * runs["bert"]["bert_step_s"] / 60 for point in curve]
            left.plot(minutes, [100 * point["accuracy"] for point in curve], marker="o", linewidth=2, label=size)
        if "gpt" in runs:
            curve = runs["gpt"]["curve"]
            fraction = [point["step"] / runs["gpt"]["steps"] for point in curve]
            right.plot(fraction, [point["loss"] for point in curve], marker="o", linewidth=2, label=size)
    baseline = next((runs["bert"]["baselines"] for runs in results.values() if "bert" in runs), None)
    if baseline:
        left.axhline(100 * baseline["most_frequent"], color="grey", linestyle="--",
                     label=f"always the top token ({100 * baseline['most_frequent']:.1f}%)")
        right.axhline(baseline["loss"], color="grey", linestyle="--",
                      label=f"unigram loss ({baseline['loss']:.2f}, a random 15%\nof these windows' tokens)")
    left.set_xlabel("minutes of mini-BERT training (step time x steps)", fontsize=13)
    left.set_ylabel("masked-token accuracy, held-out plays (%)", fontsize=13)
    left.set_title("mini-BERT: 15% hidden, all <mask>, context 128", fontsize=14)
    right.set_xlabel("share of the run's steps (the same steps as its mini-BERT)", fontsize=13)
    right.set_ylabel("next-token loss, held-out plays (nats)", fontsize=13)
    right.set_title("mini-GPT: held-out windows of 128 tokens", fontsize=14)
    for axis in (left, right):
        axis.tick_params(labelsize=12)
        axis.grid(alpha=0.3)
    left.legend(fontsize=12, loc="upper left")
    right.legend(fontsize=12, loc="upper right", bbox_to_anchor=(1, 0.9))  # below the unigram line
    figure.suptitle("The same CPU budget for every size (layers x width @ context)", fontsize=15)
    figure.tight_layout()
    figure.savefig(path)
    print(f"wrote {path}")


def plot_training(folders: list[Path], path: Path) -> None:
    """The shipped pair's held-out loss every 250 steps (``training.json``), each against its unigram level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(11, 6.5), dpi=100)
    for folder in folders:
        record = json.loads((folder / "training.json").read_text())
        points = [row for row in record["history"] if "eval_loss" in row]
        what = {"bert": "mini-BERT: MLM loss at 15% masked + NSP loss", "gpt": "mini-GPT: next-token loss"}
        axis.plot([row["step"] for row in points], [row["eval_loss"] for row in points], marker="o", linewidth=2.5,
                  label=f"{what.get(record['kind'], record['kind'])} ({record['wall_time_s'] / 60:.0f} min)")
    axis.set_xlabel("optimizer step (batch of 32 sequences of 128 tokens)", fontsize=13)
    axis.set_ylabel("loss on held-out plays (nats)", fontsize=13)
    axis.set_title("The laptop pair trained on a 2-core CPU: held-out loss every 250 steps", fontsize=14)
    axis.tick_params(labelsize=12)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=12)
    figure.tight_layout()
    figure.savefig(path)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", help=f"which sizes (default: all): {', '.join(SIZES)}")
    parser.add_argument("--models", nargs="+", choices=["bert", "gpt"], default=["bert", "gpt"])
    parser.add_argument("--budget-minutes", type=float, default=12.0, help="mini-BERT's budget per size")
    parser.add_argument("--gpt-dropout", type=float, default=SWEEP_GPT_DROPOUT,
                        help=f"mini-GPT's dropout (default {SWEEP_GPT_DROPOUT}; another rate is saved as an extra row)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--table", action="store_true", help="only print the table of saved results")
    parser.add_argument("--curves", type=Path, help="draw the curves of the saved runs into this PNG")
    parser.add_argument("--training-curves", nargs=3, type=Path, metavar=("BERT_DIR", "GPT_DIR", "PNG"),
                        help="draw the held-out losses of two trained checkpoints (their training.json) into PNG")
    args = parser.parse_args(argv)
    unknown = [size for size in args.sizes if size not in SIZES]
    if unknown:
        parser.error(f"unknown size {', '.join(map(repr, unknown))}; choose from {', '.join(SIZES)}")
    if not math.isfinite(args.budget_minutes) or args.budget_minutes <= 0:
        parser.error(f"--budget-minutes must be a positive number, got {args.budget_minutes}")
    if args.training_curves:
        plot_training(list(args.training_curves[:2]), args.training_curves[2])
        return
    if not args.table and not args.curves:
        run(args.sizes or list(SIZES), args.models, args.budget_minutes * 60, args.results, args.gpt_dropout)
    results = load_results(args.results)
    print_table(results)
    if args.curves:
        plot_curves(results, args.curves)


if __name__ == "__main__":
    main()
