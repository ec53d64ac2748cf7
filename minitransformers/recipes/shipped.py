"""Train the checkpoints shipped in ``weights/``: mini-GPT, mini-BERT and a character-level GPT.

Run ``python scripts/train_shipped.py`` or ``python -m minitransformers train
{gpt,bert,char}``. mini-GPT and mini-BERT share everything but the
architecture and objective: the tokenizer, the plays, the model size, the
number of steps, the batch shape and the optimiser settings.
"""

from __future__ import annotations

import copy
import json
import platform
import time
from pathlib import Path

import torch

from ..config import BertConfig, GPTConfig
from ..device import describe_device
from ..models import BertForPreTraining, GPTLMHeadModel
from ..training import TrainConfig, Trainer
from .evaluation import causal_lm_metrics, masked_lm_metrics
from .model_card import write_model_card
from .shakespeare_data import (
    causal_lm_dataset, char_lm_dataset, char_tokenizer, masked_lm_dataset, shakespeare_texts,
    train_shakespeare_tokenizer,
)

# The shared budget of the two shipped models.
SHARED = dict(block_size=128, batch_size=64, max_steps=3000, learning_rate=6e-4, warmup_steps=200)
# nanoGPT's shakespeare_char settings for a CPU (its README reports val loss 1.88 for them).
CHAR = dict(block_size=64, batch_size=12, max_steps=2000, learning_rate=1e-3, warmup_steps=100,
            n_layers=4, n_heads=4, hidden_size=128)
DIRECTORY_NAMES = {"gpt": "mini-gpt-shakespeare", "bert": "mini-bert-shakespeare", "char": "char-gpt-shakespeare"}
EVAL_EVERY = 250


def default_train_config(kind: str, output_dir: Path, device: str = "auto", steps: int | None = None) -> TrainConfig:
    """The optimiser settings the shipped ``kind`` ("gpt", "bert", "char") was trained with."""
    settings = CHAR if kind == "char" else SHARED
    max_steps = steps or settings["max_steps"]
    return TrainConfig(
        max_steps=max_steps, batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], min_learning_rate=settings["learning_rate"] / 10,
        warmup_steps=min(settings["warmup_steps"], max_steps // 10), weight_decay=0.1,
        beta2=0.99 if kind == "char" else 0.95,  # nanoGPT's value for its small char model
        eval_every=0, eval_batches=20, checkpoint_every=EVAL_EVERY, device=device, seed=0,
        output_dir=str(Path(output_dir).parent / "_checkpoints" / Path(output_dir).name),
    )


def _train_keeping_best(trainer: Trainer, resume: bool) -> int:
    """Train to the end, evaluating every ``EVAL_EVERY`` steps; keep the best weights. Returns its step."""
    if resume and trainer.checkpoint_path.exists():
        trainer.load_checkpoint()
        if trainer.context.is_main:
            print(f"resumed from {trainer.checkpoint_path} at step {trainer.step}", flush=True)
    best_state, best_step, best_loss = None, trainer.step, float("inf")
    while trainer.step < trainer.config.max_steps:
        trainer.train(until_step=min(trainer.step + EVAL_EVERY, trainer.config.max_steps))
        loss = trainer.evaluate()
        if trainer.context.is_main:
            print(f"step {trainer.step}: validation loss {loss:.4f}", flush=True)
        if loss < best_loss:
            best_state = copy.deepcopy(trainer.model.state_dict())
            best_step, best_loss = trainer.step, loss
    if best_state is not None:
        trainer.model.load_state_dict(best_state)
    return best_step


def _train_and_save(kind: str, model, tokenizer, train_set, eval_set, evaluate, train_config: TrainConfig,
                    output_dir: Path, resume: bool, started: float, extra: dict) -> dict:
    """Train, score on the held-out plays with ``evaluate(model, eval_set)``, and save weights,
    tokenizer, ``training.json`` and the model card (on the main process only)."""
    trainer = Trainer(model, train_set, train_config, eval_dataset=eval_set)
    best_step = _train_keeping_best(trainer, resume)
    metrics = evaluate(model, eval_set)
    block = train_set[0]["input_ids"].numel()
    record = {
        "kind": kind, "model_config": model.config.to_dict(), "parameters": model.num_parameters(),
        "train_config": trainer.config.to_dict(), "best_step": best_step, "validation": metrics,
        "wall_time_s": round(time.time() - started, 1), "hardware": describe_device(model.device),
        "platform": platform.platform(), "torch": torch.__version__, "history": trainer.history,
        **extra, "tokens_seen": train_config.max_steps * train_config.batch_size * block,
    }
    if trainer.context.is_main:
        output_dir.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(output_dir)
        tokenizer.save(output_dir)
        (output_dir / "training.json").write_text(json.dumps(record, indent=1))
        write_model_card(output_dir)
    return record


def train_gpt(tokenizer, output_dir: Path, train_config: TrainConfig, preset: str = "mini",
              resume: bool = False) -> dict:
    """mini-GPT on the training plays; the best checkpoint by validation loss is kept."""
    started = time.time()
    train, validation = shakespeare_texts()
    block = SHARED["block_size"]
    train_set, eval_set = causal_lm_dataset(tokenizer, train, block), causal_lm_dataset(tokenizer, validation, block)
    config = GPTConfig.preset(preset, vocab_size=tokenizer.vocab_size, bos_token_id=tokenizer.bos_token_id,
                              eos_token_id=tokenizer.eos_token_id)
    return _train_and_save("gpt", GPTLMHeadModel(config), tokenizer, train_set, eval_set, causal_lm_metrics,
                           train_config, output_dir, resume, started, {"train_tokens": len(train_set) * block})


def train_bert(tokenizer, output_dir: Path, train_config: TrainConfig, preset: str = "mini",
               resume: bool = False) -> dict:
    """mini-BERT (MLM + NSP) on the same plays, tokenizer, size and budget as mini-GPT."""
    started = time.time()
    train, validation = shakespeare_texts()
    block = SHARED["block_size"]
    train_set = masked_lm_dataset(tokenizer, train, block, seed=0)
    eval_set = masked_lm_dataset(tokenizer, validation, block, seed=1)
    config = BertConfig.preset(preset, vocab_size=tokenizer.vocab_size, pad_token_id=tokenizer.pad_token_id)
    bert_tokenizer = copy.copy(tokenizer)
    bert_tokenizer.frame = "bert"  # same vocabulary; texts framed as <cls> A <sep> B <sep>
    return _train_and_save("bert", BertForPreTraining(config), bert_tokenizer, train_set, eval_set,
                           masked_lm_metrics, train_config, output_dir, resume, started,
                           {"train_examples": len(train_set)})


def train_char_gpt(output_dir: Path, train_config: TrainConfig, resume: bool = False) -> dict:
    """A character-level GPT with nanoGPT's shakespeare_char CPU settings, for comparison with its 1.88."""
    started = time.time()
    train, validation = shakespeare_texts()
    tokenizer = char_tokenizer(train)
    block = CHAR["block_size"]
    train_set, eval_set = char_lm_dataset(tokenizer, train, block), char_lm_dataset(tokenizer, validation, block)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, hidden_size=CHAR["hidden_size"], n_layers=CHAR["n_layers"],
                       n_heads=CHAR["n_heads"], max_positions=block, hidden_dropout=0.0, attention_dropout=0.0)
    return _train_and_save("gpt-char", GPTLMHeadModel(config), tokenizer, train_set, eval_set, causal_lm_metrics,
                           train_config, output_dir, resume, started, {"nanogpt_reference_val_loss": 1.88})


def train_shipped(kind: str, output_root: Path, train_config: TrainConfig | None = None, device: str = "auto",
                  steps: int | None = None, preset: str = "mini", resume: bool = False, tokenizer=None) -> dict:
    """Train one shipped checkpoint (``kind`` in gpt/bert/char) into ``output_root/<its name>``."""
    if kind not in DIRECTORY_NAMES:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {sorted(DIRECTORY_NAMES)}")
    directory = Path(output_root) / DIRECTORY_NAMES[kind]
    train_config = train_config or default_train_config(kind, directory, device, steps)
    if kind == "char":
        return train_char_gpt(directory, train_config, resume)
    if tokenizer is None:
        tokenizer = train_shakespeare_tokenizer(shakespeare_texts()[0])
    run = train_gpt if kind == "gpt" else train_bert
    return run(tokenizer, directory, train_config, preset, resume)


def train_all(output_root: Path, device: str = "auto", steps: int | None = None,
              which=("gpt", "bert", "char")) -> dict:
    """Train the shared tokenizer once, then each requested checkpoint."""
    tokenizer = train_shakespeare_tokenizer(shakespeare_texts()[0]) if {"gpt", "bert"} & set(which) else None
    return {kind: train_shipped(kind, output_root, device=device, steps=steps, tokenizer=tokenizer)
            for kind in which}
