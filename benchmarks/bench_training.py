"""Benchmark: training throughput (tokens/s) of the shipped mini-GPT and its model FLOPs utilisation.

Run:  python benchmarks/bench_training.py [--quick] [--device auto|cpu|cuda]

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


from common import Row, median_time, standalone_main

import torch
from torch import nn

from minitransformers import GPTConfig, GPTLMHeadModel
from minitransformers.training import make_optimizer


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


def run(device: torch.device, quick: bool) -> list[Row]:
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

    # The optimizer's share: foreach=False (chosen for bit-exact CPU resumes) loops in Python.
    with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
        model(data, labels=data).loss.backward()
    optimizer_s = median_time(optimizer.step, device, warmup=1, repeats=steps)
    optimizer.zero_grad(set_to_none=True)

    print(f"training mini-GPT ({model.num_parameters() / 1e6:.2f} M parameters, "
          f"{matmul_parameters(model) / 1e6:.2f} M in matmuls), batch {batch} x {context} tokens, "
          f"{'bf16 autocast' if autocast_dtype else 'float32'}, median of {steps} steps")
    print(f"  step {step_s * 1e3:.1f} ms, {tokens_per_s:,.0f} tokens/s, "
          f"{achieved / 1e9:.1f} GFLOP/s achieved (6N + 12 L c t per token)")
    print(f"  measured {peak_dtype} matmul peak {peak / 1e9:.1f} GFLOP/s -> MFU {mfu:.1%} (goal 40%)")
    print(f"  AdamW step alone {optimizer_s * 1e3:.1f} ms ({optimizer_s / step_s:.1%} of a training step)")
    return [
        Row("training", f"mini-GPT b{batch} t{context} tokens/s", tokens_per_s, None, "tok/s", True),
        Row("training", "MFU vs measured matmul peak (goal 0.40)", mfu, 0.40, "fraction", True,
            note=f"peak {peak / 1e9:.0f} GFLOP/s"),
        Row("training", "AdamW step share of a training step", optimizer_s / step_s, None, "fraction"),
    ]


def main() -> None:
    standalone_main(__doc__, run, quick_help="batch 16, 3 timed steps")


if __name__ == "__main__":
    main()
