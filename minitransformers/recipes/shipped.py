"""Train the checkpoints shipped in ``weights/``: mini-GPT, mini-BERT and a character-level GPT.

Run ``python scripts/train_shipped.py`` or ``python -m minitransformers train
{gpt,bert,char}``. mini-GPT and mini-BERT share everything but the attention
mask and the objective: the tokenizer, the plays, the model size, the number
of steps, the batch shape and the optimiser settings. Both were trained on a
2-core laptop-class CPU, each in about an hour (the model cards give the
machine and the wall time); the size is the one the sweep in
``scripts/pair_size_sweep.py`` picked (``minitransformers/recipes/README.md``).

mini-BERT has settings of its own, because the plateau study
(``scripts/bert_plateau_study.py``) found that with mini-GPT's it stays for
over a thousand steps at the level of guessing the most frequent token: no
dropout, 40% of the tokens masked instead of 15% (it is always scored at
15%), and its MLM head run only at the masked positions (``MaskedPositionsLoss``,
the same loss and gradients at a lower cost). Both are trained at their full
context (``max_positions`` tokens), the best step is chosen by the loss on
held-out plays, and that choice is saved in every checkpoint, so an
interrupted run keeps it.

The character-level GPT uses nanoGPT's ``shakespeare_char`` settings for a
GPU, so the two libraries can be compared on the same data.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import time
from pathlib import Path

import torch

from ..config import BertConfig, GPTConfig
from ..device import describe_device, pick_device
from ..models import BertForPreTraining, GPTLMHeadModel
from ..training import TrainConfig, Trainer, seed_everything
from ..training.checkpoint import previous_path
from ..training.masked_positions import MaskedPositionsLoss
from .evaluation import evaluate_checkpoint_model
from .model_card import write_model_card
from .shakespeare_data import (
    causal_lm_dataset, char_lm_dataset, char_tokenizer, masked_lm_dataset, shakespeare_texts,
    train_shakespeare_tokenizer,
)

# mini-GPT's dropout at the pair's size: of 0, 0.1 and 0.2 on the sweep's budget, none measured best
# (held-out loss 4.856 against 4.891 and 4.956; recipes/README.md).
GPT_DROPOUT = 0.0
# What mini-GPT and mini-BERT share: the model size (the sweep's pick) and the training budget.
SHARED_MODEL = dict(hidden_size=256, n_layers=4, n_heads=4, intermediate_size=1024, max_positions=128,
                    hidden_dropout=GPT_DROPOUT, attention_dropout=GPT_DROPOUT)
# 6,000 steps, not 4,500: at 4,500 mini-BERT's held-out loss was still falling and "both sides help"
# missed its 5 points by 1.0; 6,000 still fits mini-GPT's step in the 75 CPU minutes (recipes/README.md).
SHARED = dict(block_size=128, batch_size=32, max_steps=6000, learning_rate=6e-4)
# Warm-up over this share of the steps, then a cosine to a tenth of the rate at the last step:
# the schedule is sized by the budget (Izsak et al. 2021 warm up over about 6%).
WARMUP_SHARE = 0.06
# mini-BERT's own settings (the plateau study): with dropout and 15% masked it leaves the
# unigram plateau after about 1,400 steps at the study's size; without dropout and 40% masked, after about 700.
BERT_MODEL = {**SHARED_MODEL, "hidden_dropout": 0.0, "attention_dropout": 0.0}
BERT_MASK_PROBABILITY = 0.40
BERT_DIFFERENCES = (f"mini-BERT trains with {BERT_MASK_PROBABILITY:.0%} of its tokens masked "
                    "(scored, like every mini-BERT, at 15%) and computes its MLM head only at the masked "
                    "positions (the same loss and gradients, fewer operations); like mini-GPT at this size, it "
                    "trains without dropout. With dropout 0.2 and BERT's usual 15%, mini-BERT stays near the "
                    "level of always guessing the most frequent token for about 1,400 steps of the plateau "
                    "study, against about 700 with no dropout and 40% masked (minitransformers/recipes/README.md).")
# nanoGPT's shakespeare_char settings for a GPU (6 layers, 6 heads, 384 wide, block 256, dropout 0.2).
CHAR_MODEL = dict(hidden_size=384, n_layers=6, n_heads=6, intermediate_size=1536, max_positions=256,
                  hidden_dropout=0.2, attention_dropout=0.2)
CHAR = dict(block_size=256, batch_size=64, max_steps=5000, learning_rate=1e-3, warmup_steps=100)
DIRECTORY_NAMES = {"gpt": "mini-gpt-shakespeare", "bert": "mini-bert-shakespeare", "char": "char-gpt-shakespeare"}
EVAL_EVERY = 250  # also the checkpoint interval: about three minutes of the pair's steps on a 2-core CPU
# Weights are stored in float16 to halve weights/ (loading gives float32 again).
STORED_DTYPE = torch.float16


def default_train_config(kind: str, output_dir: Path, device: str = "auto", steps: int | None = None) -> TrainConfig:
    """The optimiser settings the shipped ``kind`` ("gpt", "bert", "char") was trained with.

    The pair runs with bf16 autocast and ``torch.compile`` on CUDA and on the CPU alike: on a
    2-core CPU they make a step 1.3-1.4x faster with the same curve (``benchmarks/bench_pair_step.py``,
    the plateau study's ``fp32_eager`` row). The char-GPT keeps its recipe: float32 on a CPU.
    """
    settings = CHAR if kind == "char" else SHARED
    max_steps = settings["max_steps"] if steps is None else steps
    if max_steps < 1:
        raise ValueError(f"steps must be at least 1, got {max_steps}")
    device_type = pick_device(device).type
    fast = device_type == "cuda" or (kind != "char" and device_type == "cpu")
    warmup = settings["warmup_steps"] if kind == "char" else round(WARMUP_SHARE * max_steps)
    return TrainConfig(
        max_steps=max_steps, batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], min_learning_rate=settings["learning_rate"] / 10,
        warmup_steps=min(warmup, max_steps // 10), weight_decay=0.1,
        beta2=0.99 if kind == "char" else 0.95,  # nanoGPT's value for its small char model
        # The pair's evaluations read 20 batches of the held-out plays (a CPU minute saved each time);
        # the final scores read all of them.
        eval_every=min(EVAL_EVERY, max_steps), eval_batches=None if kind == "char" else 20, keep_best=True,
        log_every=50,
        checkpoint_every=EVAL_EVERY, device=device, seed=0,
        autocast_dtype="bfloat16" if fast else None, compile=fast,
        output_dir=str(Path(output_dir).parent / "_checkpoints" / Path(output_dir).name),
    )


def _train_keeping_best(trainer: Trainer, resume: bool, time_budget_s: float | None) -> dict:
    """Train to the end (or until the time budget runs out), then restore the best evaluated weights."""
    saved = trainer.checkpoint_path.exists() or previous_path(trainer.checkpoint_path).exists()
    if resume and saved:  # load_checkpoint falls back to the previous checkpoint when the latest is gone
        trainer.load_checkpoint()
        if trainer.context.is_main:
            print(f"resumed from {trainer.checkpoint_path} at step {trainer.step} "
                  f"(best so far: step {trainer.best['step']})", flush=True)
    started, stopped_early = time.time(), None
    while trainer.step < trainer.config.max_steps:
        trainer.train(until_step=min(trainer.step + trainer.config.eval_every, trainer.config.max_steps))
        if trainer.context.is_main:
            print(f"step {trainer.step}: validation loss {trainer.history[-1].get('eval_loss', float('nan')):.4f} "
                  f"(best {trainer.best['loss']:.4f} at step {trainer.best['step']})", flush=True)
        out_of_time = time_budget_s is not None and time.time() - started > time_budget_s
        if out_of_time and trainer.step < trainer.config.max_steps:
            stopped_early = trainer.step
            break
    trainer.restore_best()
    return {"best_step": trainer.best["step"], "best_validation_loss": trainer.best["loss"],
            "stopped_early_at_step": stopped_early, "resumed_at_steps": trainer.resumed_at_steps}


def _stored_copy(model, attn_impl: str = "manual"):
    """A float16 copy on the CPU that uses the hand-written attention when loaded (the reading default)."""
    stored = type(model)(model.config.replace(attn_impl=attn_impl))
    stored.load_state_dict({k: v.detach().cpu() for k, v in model.state_dict().items()})
    return stored.to(STORED_DTYPE)


def _train_and_save(kind: str, model, tokenizer, train_set, eval_set, train_config: TrainConfig,
                    output_dir: Path, resume: bool, started: float, extra: dict,
                    time_budget_s: float | None = None, write_card: bool = True,
                    trained_module: torch.nn.Module | None = None) -> dict:
    """Train, save float16 weights, tokenizer and ``training.json``, score the saved weights on the
    held-out plays, and write the model card (on the main process only).

    ``trained_module`` is what the trainer calls for the loss, when it is not ``model`` itself
    (mini-BERT's ``MaskedPositionsLoss``, which shares ``model``'s weights).
    """
    if pick_device(train_config.device).type == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)  # one thread per core
    trainer = Trainer(trained_module or model, train_set, train_config, eval_dataset=eval_set)
    outcome = _train_keeping_best(trainer, resume, time_budget_s)
    record = {
        "kind": kind, "model_config": model.config.to_dict(), "parameters": model.num_parameters(),
        "train_config": trainer.config.to_dict(), **outcome, "stored_dtype": str(STORED_DTYPE).removeprefix("torch."),
        # a resumed run counts the time its earlier parts spent up to the checkpoint it resumed from
        "wall_time_s": round(time.time() - started + trainer.seconds_before_resume, 1),
        "hardware": describe_device(model.device),
        "platform": platform.platform(), "torch": torch.__version__, "history": trainer.history,
        **extra, "tokens_seen": trainer.step * train_config.batch_size * train_set.block_size,
    }
    if trainer.context.is_main:
        print(f"saving {output_dir} and scoring it on the held-out plays ...", flush=True)
        output_dir.mkdir(parents=True, exist_ok=True)
        _stored_copy(model).save_pretrained(output_dir)
        tokenizer.save(output_dir)
        record["validation"] = evaluate_checkpoint_model(output_dir, device=model.device)
        (output_dir / "training.json").write_text(json.dumps(record, indent=1))
        if write_card:
            print(f"writing the model card {output_dir / 'README.md'} ...", flush=True)
            write_model_card(output_dir, default_train_config)
    return record


def shipped_gpt_config(tokenizer, preset: str | None = None) -> GPTConfig:
    """The shipped mini-GPT's config (``preset`` picks a named size instead)."""
    ids = dict(vocab_size=tokenizer.vocab_size, bos_token_id=tokenizer.bos_token_id,
               eos_token_id=tokenizer.eos_token_id)
    if preset not in (None, "shipped"):
        return GPTConfig.preset(preset, **ids)
    return GPTConfig(**ids, **SHARED_MODEL, attn_impl="sdpa")


def shipped_bert_config(tokenizer, preset: str | None = None) -> BertConfig:
    """The shipped mini-BERT's config: mini-GPT's size, BERT's architecture, no dropout (``BERT_MODEL``)."""
    ids = dict(vocab_size=tokenizer.vocab_size, pad_token_id=tokenizer.pad_token_id)
    if preset not in (None, "shipped"):
        return BertConfig.preset(preset, **ids)
    return BertConfig(**ids, **BERT_MODEL, attn_impl="sdpa")


def _with_dropout(config, dropout: float | None):
    return config if dropout is None else config.replace(hidden_dropout=dropout, attention_dropout=dropout)


def train_gpt(tokenizer, output_dir: Path, train_config: TrainConfig, preset: str | None = None,
              resume: bool = False, dropout: float | None = None, **options) -> dict:
    """mini-GPT on random windows of the training plays; the best step by validation loss is kept."""
    started = time.time()
    train, validation = shakespeare_texts()
    config = _with_dropout(shipped_gpt_config(tokenizer, preset), dropout)
    block = min(SHARED["block_size"], config.max_positions)  # always the full context
    train_set = causal_lm_dataset(tokenizer, train, block, stride=1)  # every offset: random windows
    eval_set = causal_lm_dataset(tokenizer, validation, block)  # whole blocks at full context
    seed_everything(train_config.seed)  # the initial weights too, so two runs are the same run
    return _train_and_save("gpt", GPTLMHeadModel(config), tokenizer, train_set, eval_set, train_config,
                           output_dir, resume, started, {"train_tokens": len(train_set.token_ids)}, **options)


def train_bert(tokenizer, output_dir: Path, train_config: TrainConfig, preset: str | None = None,
               resume: bool = False, dropout: float | None = None, **options) -> dict:
    """mini-BERT (MLM + NSP) on the same plays, tokenizer, size and budget as mini-GPT; 40% masked, no dropout,
    the MLM head only at the masked positions."""
    started = time.time()
    train, validation = shakespeare_texts()
    config = _with_dropout(shipped_bert_config(tokenizer, preset), dropout)
    block = min(SHARED["block_size"], config.max_positions)
    train_set = masked_lm_dataset(tokenizer, train, block, seed=0, mask_probability=BERT_MASK_PROBABILITY)
    eval_set = masked_lm_dataset(tokenizer, validation, block, seed=1, evaluation=True)
    bert_tokenizer = copy.copy(tokenizer)
    bert_tokenizer.frame = "bert"  # same vocabulary; texts framed as <cls> A <sep> B <sep>
    seed_everything(train_config.seed)
    model = BertForPreTraining(config)
    return _train_and_save("bert", model, bert_tokenizer, train_set, eval_set, train_config,
                           output_dir, resume, started,
                           {"train_examples": len(train_set), "mask_probability": BERT_MASK_PROBABILITY,
                            "sparse_prediction": True, "differs_from_sibling": BERT_DIFFERENCES},
                           trained_module=MaskedPositionsLoss(model), **options)


def train_char_gpt(output_dir: Path, train_config: TrainConfig, resume: bool = False, preset: str | None = None,
                   **options) -> dict:
    """A character-level GPT with nanoGPT's shakespeare_char GPU settings (``preset`` for a smaller one)."""
    started = time.time()
    train, validation = shakespeare_texts()
    tokenizer = char_tokenizer(train)
    if preset in (None, "shipped"):
        config = GPTConfig(vocab_size=tokenizer.vocab_size, **CHAR_MODEL, attn_impl="sdpa")
    else:
        config = GPTConfig.preset(preset, vocab_size=tokenizer.vocab_size)
    block = min(CHAR["block_size"], config.max_positions)
    train_set = char_lm_dataset(tokenizer, train, block, stride=1)
    eval_set = char_lm_dataset(tokenizer, validation, block)
    seed_everything(train_config.seed)
    return _train_and_save("gpt-char", GPTLMHeadModel(config), tokenizer, train_set, eval_set, train_config,
                           output_dir, resume, started, {"train_tokens": len(train_set.token_ids)}, **options)


def train_shipped(kind: str, output_root: Path, train_config: TrainConfig | None = None, device: str = "auto",
                  steps: int | None = None, preset: str | None = None, resume: bool = False, tokenizer=None,
                  overrides: list[str] = (), **options) -> dict:
    """Train one shipped checkpoint (``kind`` in gpt/bert/char) into ``output_root/<its name>``.

    ``overrides`` (``"key=value"``) change the default training settings. ``options``:
    ``time_budget_s`` stops at the first evaluation past that many seconds (the card says
    so); ``write_card=False`` skips the model card.
    """
    if kind not in DIRECTORY_NAMES:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {sorted(DIRECTORY_NAMES)}")
    directory = Path(output_root) / DIRECTORY_NAMES[kind]
    train_config = train_config or default_train_config(kind, directory, device, steps).with_overrides(list(overrides))
    if kind == "char":
        return train_char_gpt(directory, train_config, resume, preset, **options)
    if tokenizer is None:
        tokenizer = train_shakespeare_tokenizer(shakespeare_texts()[0])
    run = train_gpt if kind == "gpt" else train_bert
    return run(tokenizer, directory, train_config, preset, resume, **options)


def train_all(output_root: Path, device: str = "auto", steps: int | None = None,
              which=("gpt", "bert", "char"), **options) -> dict:
    """Train the shared tokenizer once, then each requested checkpoint."""
    tokenizer = train_shakespeare_tokenizer(shakespeare_texts()[0]) if {"gpt", "bert"} & set(which) else None
    return {kind: train_shipped(kind, output_root, device=device, steps=steps, tokenizer=tokenizer, **options)
            for kind in which}
