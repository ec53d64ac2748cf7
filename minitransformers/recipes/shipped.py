"""Train the checkpoints shipped in ``weights/``: mini-GPT, mini-BERT and a character-level GPT.

Run ``python scripts/train_shipped.py --help``. mini-GPT and mini-BERT share
everything but the architecture and objective: the tokenizer, the plays, the
model size, the number of steps, the batch shape and the optimiser settings.
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
from .shakespeare_data import (
    causal_lm_dataset, char_lm_dataset, char_tokenizer, masked_lm_dataset, shakespeare_texts, train_shakespeare_tokenizer,
)

# The shared budget of the two shipped models.
SHARED = dict(block_size=128, batch_size=64, max_steps=3000, learning_rate=6e-4, warmup_steps=200)
# nanoGPT's shakespeare_char settings for a CPU (its README reports val loss 1.88 for them).
CHAR = dict(block_size=64, batch_size=12, max_steps=2000, learning_rate=1e-3, warmup_steps=100,
            n_layers=4, n_heads=4, hidden_size=128)


def _train_keeping_best(trainer: Trainer, eval_every: int = 250) -> tuple[dict, int, float]:
    """Train to the end, evaluating every ``eval_every`` steps; return the best weights seen."""
    best_state, best_step, best_loss = None, 0, float("inf")
    while trainer.step < trainer.config.max_steps:
        trainer.train(until_step=min(trainer.step + eval_every, trainer.config.max_steps))
        loss = trainer.evaluate()
        print(f"step {trainer.step}: validation loss {loss:.4f}", flush=True)
        if loss < best_loss:
            best_state = copy.deepcopy(trainer.model.state_dict())
            best_step, best_loss = trainer.step, loss
    trainer.model.load_state_dict(best_state)
    return best_state, best_step, best_loss


def _train_config(settings: dict, output_dir: Path, device: str, steps: int | None) -> TrainConfig:
    max_steps = steps or settings["max_steps"]
    return TrainConfig(
        max_steps=max_steps, batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"], min_learning_rate=settings["learning_rate"] / 10,
        warmup_steps=min(settings["warmup_steps"], max_steps // 10), weight_decay=0.1, eval_every=0, eval_batches=20,
        output_dir=str(output_dir.parent / "_checkpoints" / output_dir.name), checkpoint_every=250, device=device, seed=0,
    )


def _record(output_dir: Path, kind: str, model, train_config: TrainConfig, metrics: dict,
            history: list, started: float, best_step: int, extra: dict) -> dict:
    record = {
        "kind": kind,
        "model_config": model.config.to_dict(),
        "parameters": model.num_parameters(),
        "train_config": train_config.to_dict(),
        "best_step": best_step,
        "validation": metrics,
        "wall_time_s": round(time.time() - started, 1),
        "hardware": describe_device(model.device),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "history": history,
        **extra,
    }
    (output_dir / "training.json").write_text(json.dumps(record, indent=1))
    return record


def train_gpt(tokenizer, output_dir: Path, device: str = "auto", steps: int | None = None) -> dict:
    """mini-GPT on the training plays; the best checkpoint by validation loss is kept."""
    started = time.time()
    train, validation = shakespeare_texts()
    block = SHARED["block_size"]
    train_set = causal_lm_dataset(tokenizer, train, block)
    eval_set = causal_lm_dataset(tokenizer, validation, block)
    config = GPTConfig.preset("mini", vocab_size=tokenizer.vocab_size, bos_token_id=tokenizer.bos_token_id,
                              eos_token_id=tokenizer.eos_token_id)
    model = GPTLMHeadModel(config)
    train_config = _train_config(SHARED, output_dir, device, steps)
    trainer = Trainer(model, train_set, train_config, eval_dataset=eval_set)
    _, best_step, _ = _train_keeping_best(trainer, eval_every=250)
    metrics = causal_lm_metrics(model, eval_set)
    model.save_pretrained(output_dir)
    tokenizer.save(output_dir)
    extra = {"train_tokens": len(train_set) * block, "tokens_seen": train_config.max_steps * SHARED["batch_size"] * block}
    return _record(output_dir, "gpt", model, train_config, metrics, trainer.history, started, best_step, extra)


def train_bert(tokenizer, output_dir: Path, device: str = "auto", steps: int | None = None) -> dict:
    """mini-BERT (MLM + NSP) on the same plays, tokenizer, size and budget as mini-GPT."""
    started = time.time()
    train, validation = shakespeare_texts()
    block = SHARED["block_size"]
    train_set = masked_lm_dataset(tokenizer, train, block, seed=0)
    eval_set = masked_lm_dataset(tokenizer, validation, block, seed=1)
    config = BertConfig.preset("mini", vocab_size=tokenizer.vocab_size, pad_token_id=tokenizer.pad_token_id)
    model = BertForPreTraining(config)
    train_config = _train_config(SHARED, output_dir, device, steps)
    trainer = Trainer(model, train_set, train_config, eval_dataset=eval_set)
    _, best_step, _ = _train_keeping_best(trainer, eval_every=250)
    metrics = masked_lm_metrics(model, eval_set)
    model.save_pretrained(output_dir)
    bert_tokenizer = copy.copy(tokenizer)
    bert_tokenizer.frame = "bert"  # same vocabulary; texts framed as <cls> A <sep> B <sep>
    bert_tokenizer.save(output_dir)
    extra = {"train_examples": len(train_set), "tokens_seen": train_config.max_steps * SHARED["batch_size"] * block}
    return _record(output_dir, "bert", model, train_config, metrics, trainer.history, started, best_step, extra)


def train_char_gpt(output_dir: Path, device: str = "auto", steps: int | None = None) -> dict:
    """A character-level GPT with nanoGPT's shakespeare_char CPU settings, for comparison with its 1.88."""
    started = time.time()
    train, validation = shakespeare_texts()
    tokenizer = char_tokenizer(train)
    s = CHAR
    train_set = char_lm_dataset(tokenizer, train, s["block_size"])
    eval_set = char_lm_dataset(tokenizer, validation, s["block_size"])
    config = GPTConfig(vocab_size=tokenizer.vocab_size, hidden_size=s["hidden_size"], n_layers=s["n_layers"],
                       n_heads=s["n_heads"], max_positions=s["block_size"], hidden_dropout=0.0,
                       attention_dropout=0.0)
    model = GPTLMHeadModel(config)
    train_config = _train_config(s, output_dir, device, steps)
    train_config.beta2 = 0.99  # nanoGPT's value for this small model
    trainer = Trainer(model, train_set, train_config, eval_dataset=eval_set)
    _, best_step, _ = _train_keeping_best(trainer, eval_every=250)
    metrics = causal_lm_metrics(model, eval_set)
    model.save_pretrained(output_dir)
    tokenizer.save(output_dir)
    extra = {"nanogpt_reference_val_loss": 1.88}
    return _record(output_dir, "gpt-char", model, train_config, metrics, trainer.history, started, best_step, extra)


def train_all(output_root: Path, device: str = "auto", steps: int | None = None, which=("gpt", "bert", "char")) -> dict:
    """Train the shared tokenizer once, then each requested checkpoint into ``output_root/<name>``."""
    output_root = Path(output_root)
    results = {}
    if "gpt" in which or "bert" in which:
        train, _ = shakespeare_texts()
        tokenizer = train_shakespeare_tokenizer(train)
    for name, run in (("gpt", lambda d: train_gpt(tokenizer, d, device, steps)),
                      ("bert", lambda d: train_bert(tokenizer, d, device, steps)),
                      ("char", lambda d: train_char_gpt(d, device, steps))):
        if name in which:
            directory = output_root / {"gpt": "mini-gpt-shakespeare", "bert": "mini-bert-shakespeare",
                                       "char": "char-gpt-shakespeare"}[name]
            directory.mkdir(parents=True, exist_ok=True)
            results[name] = run(directory)
    return results
