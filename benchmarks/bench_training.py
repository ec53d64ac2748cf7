"""Benchmark: our ``Trainer`` step against a plain PyTorch GPT, and the model FLOPs utilisation.

Run:  python benchmarks/bench_training.py [--quick] [--device auto|cpu|cuda] [--no-compile] [--profile]

**Ours vs plain PyTorch.** ``reference_gpt.py`` is a minimal GPT of the same
shapes written plainly (fused attention with ``is_causal``, ``foreach``
AdamW on the CPU, no hooks, random windows of one token tensor); ours
uses torch's fused AdamW (the library's default), and one row per thread
count gives the reference the fused AdamW too. Ours is the library
as a user trains it: ``GPTLMHeadModel`` (``attn_impl="sdpa"``) driven by
``Trainer`` / ``TrainConfig`` on a ``CausalLMDataset``, so every change to
the trainer, the data path or the model shows here. Both run the same
number of steps per timed call, interleaved (ours, reference, ours, ...),
median per step; ``ratio = ours / reference`` (at most 1.0 is the goal).

* CPU, float32, 1 and 2 threads: nanoGPT's ``shakespeare_char`` CPU settings
  (4 layers, 4 heads, 128 wide, block 64, batch 12, vocabulary 65, no
  dropout) and the ``mini`` preset (block 128, batch 16, dropout 0.1 as
  the preset says).
* CUDA, bf16 autocast: nanoGPT's GPU settings (6 layers, 6 heads, 384 wide,
  block 256, batch 64), eager against eager, then compiled against compiled
  (``TrainConfig.compile`` against ``torch.compile`` of the reference).

``--profile`` prints where our CPU step spends its time next to the
reference's (``torch.profiler``, nanoGPT CPU settings, one thread).

One training step is what the shipped recipe does: ``model(x, labels=x).loss``,
``backward``, clip the gradient norm to 1, an AdamW step from
``minitransformers.training.make_optimizer`` (dropout on, train mode), on
the ``GPTConfig.preset("mini")`` model with the recipe's 128-token blocks.

**MFU** (model FLOPs utilisation) = achieved FLOP/s / peak FLOP/s, where

* achieved FLOP/s counts, per token, ``6 * N + 12 * n_layers * hidden * t``
  (the PaLM paper's formula): ``6 N`` for the forward (2 N) and backward
  (4 N) matmuls with the ``N`` weights that take part in a matmul (every
  linear layer and the tied embedding / LM head; not the position table,
  norms or biases), and ``12 L c t`` for the attention scores and the
  weighted sum of values at context ``t`` (no discount for the causal half);
* peak FLOP/s is *measured* here: the median speed of one large square
  ``torch.matmul`` on the same device, dtype and threads.

On CUDA the step runs under bfloat16 autocast and the peak is a bfloat16
matmul; on CPU both are float32.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics

from common import Row, machine_description, median_time, resolve_device, round_times
from common import format_table
from reference_gpt import ReferenceGPT, ReferenceTraining

import torch
from torch import nn

from minitransformers import GPTConfig, GPTLMHeadModel
from minitransformers.data import CausalLMDataset
from minitransformers.training import Trainer, TrainConfig, make_optimizer

# name: (model shape, batch, block, dropout)
SETTINGS = {
    "nanoGPT-cpu": (dict(vocab_size=65, hidden_size=128, n_layers=4, n_heads=4), 12, 64, 0.0),
    "mini": (dict(GPTConfig.PRESETS["mini"]), 16, 128, 0.1),
    "nanoGPT-gpu": (dict(vocab_size=65, hidden_size=384, n_layers=6, n_heads=6), 64, 256, 0.2),
}


def our_training(name: str, data: torch.Tensor, device: torch.device, compile: bool = False,
                 attn_impl: str = "sdpa"):
    """Our Trainer on the setting's model; returns ``run(k)`` that trains ``k`` more steps."""
    shape, batch, block, dropout = SETTINGS[name]
    torch.manual_seed(0)
    config = GPTConfig(**{**shape, "max_positions": block}, hidden_dropout=dropout,
                       attention_dropout=dropout, attn_impl=attn_impl)
    options = dict(max_steps=10**6, batch_size=batch, learning_rate=6e-4, min_learning_rate=6e-5,
                   warmup_steps=10, eval_every=0, log_every=10**6, progress=False, device=device.type,
                   autocast_dtype="bfloat16" if device.type == "cuda" else None)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    if compile:
        if "compile" not in fields:
            return None  # this version of the Trainer cannot compile
        options["compile"] = True
    trainer = Trainer(GPTLMHeadModel(config), CausalLMDataset(data, block), TrainConfig(**options))
    return lambda k: trainer.train(until_step=trainer.step + k)


def reference_training(name: str, data: torch.Tensor, device: torch.device, compile: bool = False,
                       fused_adamw: bool | None = None):
    shape, batch, block, dropout = SETTINGS[name]
    torch.manual_seed(0)
    model = ReferenceGPT(shape["vocab_size"], shape["hidden_size"], shape["n_layers"], shape["n_heads"],
                         block, dropout)
    dtype = torch.bfloat16 if device.type == "cuda" else None
    reference = ReferenceTraining(model, data, batch, block, device, dtype, compile=compile,
                                  fused_adamw=fused_adamw)

    def run(k: int) -> None:
        for _ in range(k):
            reference.step()
    return run


def compare_steps(name: str, device: torch.device, rounds: int, steps: int, compile: bool = False,
                  attn_impl: str = "sdpa", label: str = "", reference_fused_adamw: bool | None = None) -> Row:
    """Median seconds per step of ours and the reference, timed in alternating rounds."""
    shape = SETTINGS[name][0]
    data = torch.randint(0, shape["vocab_size"], (200_000,), generator=torch.Generator().manual_seed(0))
    ours = our_training(name, data, device, compile, attn_impl)
    if ours is None:
        return Row("training", f"{name} {label}", float("nan"), None, "ms/step",
                   note="TrainConfig has no compile field in this version: not measured")
    reference = reference_training(name, data, device, compile, reference_fused_adamw)
    warmup = 2 if compile else 1
    times = round_times({"ours": lambda: ours(steps), "reference": lambda: reference(steps)},
                        device, warmup=warmup, repeats=rounds)
    ours_ms, reference_ms = (1e3 * statistics.median(times[key]) / steps for key in ("ours", "reference"))
    # Each round's own ratio: their spread says how far this machine's noise moves one comparison.
    per_round = sorted(a / b for a, b in zip(times["ours"], times["reference"]))
    low, high = per_round[len(per_round) // 4], per_round[(3 * len(per_round)) // 4]
    print(f"  {name:<12} {label:<28} ours {ours_ms:8.2f} ms/step  reference {reference_ms:8.2f} ms/step  "
          f"ratio {ours_ms / reference_ms:.2f}  (per round, middle half: {low:.2f}-{high:.2f})", flush=True)
    return Row("training", f"{name} {label} vs plain PyTorch", ours_ms, reference_ms, "ms/step",
               note=f"rounds {low:.2f}-{high:.2f}")


def reference_rows(device: torch.device, quick: bool, compile: bool = True) -> list[Row]:
    """Ours against the plain reference: CPU at 1 and 2 threads, or CUDA eager and compiled."""
    rows: list[Row] = []
    print("training step, ours (Trainer) vs plain PyTorch reference, interleaved rounds, median:")
    if device.type == "cuda":
        rounds, steps = (5, 5) if quick else (10, 10)
        rows.append(compare_steps("nanoGPT-gpu", device, rounds, steps, label="bf16 eager"))
        if compile:
            rows.append(compare_steps("nanoGPT-gpu", device, rounds, steps, compile=True, label="bf16 compiled"))
        return rows
    threads_before = torch.get_num_threads()
    for threads in (1, 2):
        torch.set_num_threads(threads)
        nano_rounds, mini_rounds = (5, 3) if quick else (15, 9)
        rows.append(compare_steps("nanoGPT-cpu", device, nano_rounds, 3, label=f"fp32 {threads} thr sdpa"))
        if not quick:
            rows.append(compare_steps("nanoGPT-cpu", device, nano_rounds, 3, attn_impl="manual",
                                      label=f"fp32 {threads} thr manual"))
            # Ours uses torch's fused AdamW on the CPU too; the reference's foreach is the issue's.
            # This row gives the reference the same optimizer: what is left is the rest of the step.
            rows.append(compare_steps("nanoGPT-cpu", device, nano_rounds, 3, reference_fused_adamw=True,
                                      label=f"fp32 {threads} thr sdpa, ref fused"))
        rows.append(compare_steps("mini", device, mini_rounds, 1, label=f"fp32 {threads} thr sdpa"))
    torch.set_num_threads(threads_before)
    return rows


def matmul_peak_flops(device: torch.device, dtype: torch.dtype, n: int) -> float:
    """FLOP/s of an ``n x n`` by ``n x n`` matmul (2 n^3 FLOPs), median of several runs."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    seconds = median_time(lambda: torch.matmul(a, b), device, warmup=2, repeats=7)
    return 2 * n**3 / seconds


def matmul_parameters(model: GPTLMHeadModel) -> int:
    """Weights that take part in a matmul: linear layers plus the (tied) token embedding / LM head."""
    count = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    tied = model.lm_head.weight is model.gpt.token_embeddings.weight
    return count if tied else count + model.gpt.token_embeddings.weight.numel()


def flops_per_token(model: GPTLMHeadModel, context: int) -> float:
    """Training FLOPs per token: ``6 N + 12 L c t`` (see the module docstring)."""
    config = model.config
    return 6 * matmul_parameters(model) + 12 * config.n_layers * config.hidden_size * context


def run(device: torch.device, quick: bool, compile: bool = True) -> list[Row]:
    """Ours against the plain reference, then tokens/s and MFU on the mini preset."""
    return reference_rows(device, quick, compile) + mfu_rows(device, quick)


def mfu_rows(device: torch.device, quick: bool) -> list[Row]:
    """Tokens/s and MFU of AdamW training steps on the mini preset."""
    autocast_dtype = torch.bfloat16 if device.type == "cuda" else None
    peak_dtype = autocast_dtype or torch.float32
    batch, context = (16, 128) if quick else (64, 128)
    steps = 3 if quick else 5
    torch.manual_seed(0)
    model = GPTLMHeadModel(GPTConfig.preset("mini")).to(device).train()
    optimizer = make_optimizer(model, learning_rate=6e-4, weight_decay=0.1)
    data = torch.randint(0, model.config.vocab_size, (batch, context), device=device)

    def step() -> None:
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss = model(data, labels=data).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step_s = median_time(step, device, warmup=1, repeats=steps)
    tokens_per_s = batch * context / step_s
    achieved = tokens_per_s * flops_per_token(model, context)
    peak = matmul_peak_flops(device, peak_dtype, 8192 if device.type == "cuda" else 2048)
    mfu = achieved / peak

    # The optimizer's share of a step (make_optimizer: fused on the CPU and CUDA).
    with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
        model(data, labels=data).loss.backward()
    optimizer_s = median_time(optimizer.step, device, warmup=1, repeats=steps)
    # The same update with foreach (one pass per operation over all tensors), for comparison.
    foreach = make_optimizer(model, learning_rate=6e-4, weight_decay=0.1, fused=False)
    foreach_s = median_time(foreach.step, device, warmup=1, repeats=steps)
    optimizer.zero_grad(set_to_none=True)

    print(f"training mini-GPT ({model.num_parameters() / 1e6:.2f} M parameters, "
          f"{matmul_parameters(model) / 1e6:.2f} M in matmuls), batch {batch} x {context} tokens, "
          f"{'bf16 autocast' if autocast_dtype else 'float32'}, median of {steps} steps")
    print(f"  step {step_s * 1e3:.1f} ms, {tokens_per_s:,.0f} tokens/s, "
          f"{achieved / 1e9:.1f} GFLOP/s achieved (6N + 12 L c t per token)")
    print(f"  measured {peak_dtype} matmul peak {peak / 1e9:.1f} GFLOP/s -> MFU {mfu:.1%} (goal 40%)")
    print(f"  AdamW step alone {optimizer_s * 1e3:.1f} ms fused ({optimizer_s / step_s:.1%} of a training step), "
          f"{foreach_s * 1e3:.1f} ms foreach")
    return [
        Row("training", f"mini-GPT b{batch} t{context} tokens/s", tokens_per_s, None, "tok/s", True),
        Row("training", "MFU vs measured matmul peak (goal 0.40)", mfu, 0.40, "fraction", True,
            note=f"peak {peak / 1e9:.0f} GFLOP/s"),
        Row("training", "AdamW step share of a training step", optimizer_s / step_s, None, "fraction"),
        Row("training", "AdamW step, fused vs foreach", optimizer_s * 1e3, foreach_s * 1e3, "ms"),
    ]


def profile_cpu_step() -> None:
    """Where one CPU step goes: the top operators of ours and of the reference, side by side."""
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(1)
    data = torch.randint(0, 65, (200_000,), generator=torch.Generator().manual_seed(0))
    device = torch.device("cpu")
    for label, run in [("ours", our_training("nanoGPT-cpu", data, device)),
                       ("reference", reference_training("nanoGPT-cpu", data, device))]:
        run(3)  # warm-up
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            run(10)
        print(f"\n== {label}: 10 steps, nanoGPT CPU settings, 1 thread ==")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds; CUDA: ~1 minute with compile")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--no-compile", action="store_true", help="CUDA: skip compiled vs compiled")
    parser.add_argument("--no-mfu", action="store_true", help="skip the MFU measurement")
    parser.add_argument("--profile", action="store_true", help="print a CPU profile of ours and the reference")
    args = parser.parse_args()
    device = resolve_device(args.device)
    print(machine_description(device) + "\n")
    if args.profile:
        profile_cpu_step()
        return
    rows = reference_rows(device, args.quick, not args.no_compile)
    if not args.no_mfu:
        rows += mfu_rows(device, args.quick)
    print("\n" + format_table(rows))


if __name__ == "__main__":
    main()
