"""Benchmark: one training step of the laptop pair on a CPU, the new recipe against the current one.

Run:  python benchmarks/bench_pair_step.py [--quick] [--size 4x256@128]

"Current" is what ``scripts/train_shipped.py --device cpu`` did before the
laptop pair: float32, no ``torch.compile``, sdpa attention, and for mini-BERT
the MLM head at every position (``BertForPreTraining(**batch).loss``). Each
row adds one change, ending at the laptop recipe (sparse prediction, bf16
autocast, compile):

* mini-BERT: + sparse prediction (``MaskedPositionsLoss``), + bf16 autocast, + compile;
* mini-GPT: + bf16 autocast, + compile (GPT needs every position's logits).

Every variant is a real ``Trainer`` step on batches of the Shakespeare
training plays (batch 32, 40% masked for BERT), torch using one thread per
core. The variants are timed round-robin, one step each per round, so a
burst of load from another process slows all of them alike; the median per
step is printed, and ``ratio = current / variant`` (the speed-up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import common  # noqa: F401  (makes the repository importable from a checkout)
from common import machine_description

import torch

from minitransformers import BertConfig, BertForPreTraining, GPTConfig, GPTLMHeadModel
from minitransformers.recipes.shakespeare_data import (
    causal_lm_dataset, masked_lm_dataset, shakespeare_texts, train_shakespeare_tokenizer,
)
from minitransformers.training import TrainConfig, Trainer, seed_everything
from minitransformers.training.masked_positions import MaskedPositionsLoss

SIZES = {"4x256@128": (4, 256, 4, 128), "6x256@128": (6, 256, 4, 128), "4x320@128": (4, 320, 5, 128),
         "4x256@256": (4, 256, 4, 256), "6x288@256": (6, 288, 6, 256)}


def _trainer(model, dataset, bf16: bool, compiled: bool) -> Trainer:
    config = TrainConfig(max_steps=10_000, batch_size=32, learning_rate=6e-4, min_learning_rate=6e-5,
                         warmup_steps=100, eval_every=0, log_every=10_000, device="cpu", seed=0,
                         autocast_dtype="bfloat16" if bf16 else None, compile=compiled, progress=False)
    return Trainer(model, dataset, config)


def _variants(size: str, tokenizer, train_works) -> dict[str, dict[str, Trainer]]:
    layers, width, heads, context = SIZES[size]
    shape = dict(hidden_size=width, n_layers=layers, n_heads=heads, intermediate_size=4 * width,
                 max_positions=context, hidden_dropout=0.0, attention_dropout=0.0, attn_impl="sdpa")
    bert_set = masked_lm_dataset(tokenizer, train_works, context, mask_probability=0.40)
    gpt_set = causal_lm_dataset(tokenizer, train_works, context, stride=1)

    def bert(sparse: bool, bf16: bool, compiled: bool) -> Trainer:
        seed_everything(0)
        model = BertForPreTraining(BertConfig(vocab_size=tokenizer.vocab_size,
                                              pad_token_id=tokenizer.pad_token_id, **shape))
        return _trainer(MaskedPositionsLoss(model) if sparse else model, bert_set, bf16, compiled)

    def gpt(bf16: bool, compiled: bool) -> Trainer:
        seed_everything(0)
        model = GPTLMHeadModel(GPTConfig(vocab_size=tokenizer.vocab_size, **shape))
        return _trainer(model, gpt_set, bf16, compiled)

    return {
        "mini-BERT": {"current (float32, dense MLM head)": bert(False, False, False),
                      "+ sparse prediction": bert(True, False, False),
                      "+ bf16 autocast": bert(True, True, False),
                      "+ compile (the laptop recipe)": bert(True, True, True)},
        "mini-GPT": {"current (float32)": gpt(False, False),
                     "+ bf16 autocast": gpt(True, False),
                     "+ compile (the laptop recipe)": gpt(True, True)},
    }


def _one_step(trainer: Trainer) -> float:
    started = time.perf_counter()
    trainer.train(until_step=trainer.step + 1)
    return time.perf_counter() - started


def run(size: str, quick: bool) -> None:
    torch.set_num_threads(os.cpu_count() or 1)  # one thread per core
    train_works, _ = shakespeare_texts()
    tokenizer = train_shakespeare_tokenizer(train_works)
    warmup, repeats = (3, 5) if quick else (6, 15)
    print(machine_description(torch.device("cpu")))
    print(f"size {size}, batch 32; median of {repeats} steps after {warmup} warm-up steps, round-robin\n")
    print("| model | variant | s per step | speed-up over current |")
    print("|---|---|---:|---:|")
    for model, variants in _variants(size, tokenizer, train_works).items():
        for trainer in variants.values():
            for _ in range(warmup):  # the first steps pay for compiling and the allocator
                _one_step(trainer)
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(repeats):
            for name, trainer in variants.items():
                times[name].append(_one_step(trainer))
        medians = {name: statistics.median(values) for name, values in times.items()}
        current = next(iter(medians.values()))
        for name, seconds in medians.items():
            print(f"| {model} | {name} | {seconds:.3f} | {current / seconds:.2f}x |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke run)")
    parser.add_argument("--size", choices=list(SIZES), default="4x256@128",
                        help="layers x width @ context (default 4x256@128)")
    args = parser.parse_args()
    run(args.size, args.quick)


if __name__ == "__main__":
    main()
