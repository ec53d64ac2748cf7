"""Tests for the training loop, optimizer groups, schedule, config and checkpoints."""

from __future__ import annotations

import itertools
import json
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from minitransformers.data import CausalLMDataset
from minitransformers.training import (
    TrainConfig,
    Trainer,
    load_checkpoint,
    make_optimizer,
    make_scheduler,
    parameter_groups,
    seed_everything,
    warmup_cosine,
)
from minitransformers.training import checkpoint as checkpoint_module

VOCAB = 50


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread; on a shared 2-core machine, 2 threads thrash."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class TinyLM(nn.Module):
    """A stand-in language model with the library's interface: ``forward(**batch).loss``."""

    def __init__(self, dropout: float = 0.1) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 16)
        self.mix = nn.Linear(16, 16)
        self.norm = nn.LayerNorm(16)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(16, VOCAB)

    def forward(self, input_ids, attention_mask=None, labels=None):
        hidden = self.norm(torch.tanh(self.mix(self.dropout(self.embed(input_ids)))))
        logits = self.head(hidden)
        loss = None
        if labels is not None:  # shift inside the model, like our GPT and transformers
            loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten())
        return SimpleNamespace(loss=loss, logits=logits)


def make_data(n_tokens: int = 480, seed: int = 0) -> CausalLMDataset:
    ids = torch.randint(VOCAB, (n_tokens,), generator=torch.Generator().manual_seed(seed))
    return CausalLMDataset(ids, block_size=8)


def make_config(**changes) -> TrainConfig:
    base = {
        "max_steps": 12,
        "batch_size": 8,
        "gradient_accumulation_steps": 2,
        "learning_rate": 1e-2,
        "min_learning_rate": 1e-3,
        "warmup_steps": 3,
        "eval_every": 4,
        "eval_batches": 2,
        "progress": False,
        "device": "cpu",
    }
    return TrainConfig(**(base | changes))


def new_trainer(config: TrainConfig, model_seed: int = 0, dropout: float = 0.1) -> Trainer:
    seed_everything(model_seed)
    return Trainer(TinyLM(dropout), make_data(), config, eval_dataset=make_data(200, seed=1))


# ----- optimizer groups and schedule -------------------------------------------------------


def test_weight_decay_only_on_matrices_that_are_not_embeddings():
    groups = parameter_groups(TinyLM(), weight_decay=0.1)
    decay, no_decay = groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert sorted(decay["names"]) == ["head.weight", "mix.weight"]
    assert sorted(no_decay["names"]) == [
        "embed.weight",
        "head.bias",
        "mix.bias",
        "norm.bias",
        "norm.weight",
    ]


def test_tied_gpt_head_is_counted_once_and_not_decayed():
    from minitransformers import GPTConfig, GPTLMHeadModel

    model = GPTLMHeadModel(GPTConfig.preset("tiny"))
    decay, no_decay = parameter_groups(model, weight_decay=0.1)
    grouped = [id(p) for p in decay["params"] + no_decay["params"]]
    assert len(grouped) == len(set(grouped)) == len(list(model.parameters()))
    assert id(model.lm_head.weight) in {id(p) for p in no_decay["params"]}  # tied to embeddings
    assert all(name.endswith(".weight") and "norm" not in name for name in decay["names"])
    assert {"gpt.token_embeddings.weight", "gpt.positional.weight"} <= set(
        no_decay["names"]
    )
    matrices_kept = [n for n, p in zip(no_decay["names"], no_decay["params"]) if p.ndim >= 2]
    assert all("embedding" in name or "positional" in name for name in matrices_kept)


def test_warmup_then_cosine():
    lr = [
        warmup_cosine(s, warmup_steps=10, max_steps=110, max_lr=1.0, min_lr=0.1) for s in range(120)
    ]
    assert lr[0] == pytest.approx(0.1) and lr[9] == pytest.approx(1.0)
    assert all(a < b for a, b in itertools.pairwise(lr[:10]))  # rising during warm-up
    assert all(a >= b for a, b in itertools.pairwise(lr[9:111]))  # then never rising
    assert lr[60] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lr[110] == lr[119] == pytest.approx(0.1)


def test_scheduler_follows_warmup_cosine():
    optimizer = make_optimizer(TinyLM(), learning_rate=2e-3, weight_decay=0.1)
    scheduler = make_scheduler(optimizer, warmup_steps=4, max_steps=20, min_lr_ratio=0.1)
    seen = []
    for _ in range(20):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [
        warmup_cosine(s, warmup_steps=4, max_steps=20, max_lr=2e-3, min_lr=2e-4) for s in range(20)
    ]
    assert seen == pytest.approx(expected)


# ----- config ---------------------------------------------------------------------------------


def test_config_json_with_overrides(tmp_path):
    path = tmp_path / "train.json"
    path.write_text(json.dumps({"max_steps": 50, "learning_rate": 1e-3, "output_dir": "runs/a"}))
    config = TrainConfig.from_json(
        path, overrides=["max_steps=80", "grad_clip=none", "progress=false", "warmup_steps=5"]
    )
    assert (config.max_steps, config.learning_rate, config.output_dir) == (80, 1e-3, "runs/a")
    assert config.grad_clip is None and config.progress is False and config.warmup_steps == 5
    config.save_json(tmp_path / "again.json")
    assert TrainConfig.from_json(tmp_path / "again.json") == config
    with pytest.raises(ValueError, match="expected key=value"):
        config.with_overrides(["learning_rte=1"])
    with pytest.raises(ValueError, match="cannot read 'fast' as int"):
        config.with_overrides(["max_steps=fast"])
    with pytest.raises(ValueError, match="warmup_steps"):
        TrainConfig(max_steps=10, warmup_steps=20)


# ----- the loop -----------------------------------------------------------------------------


def test_history_rows_and_falling_loss():
    trainer = new_trainer(make_config(max_steps=30, eval_every=10), dropout=0.0)
    history = trainer.train()
    assert [row["step"] for row in history] == list(range(1, 31))
    assert {"step", "loss", "lr", "tokens_per_s"} <= set(history[0])
    assert [row["step"] for row in history if "eval_loss" in row] == [10, 20, 30]
    assert history[-1]["loss"] < history[0]["loss"] - 0.3
    assert all(row["tokens_per_s"] > 0 for row in history)


def test_gradient_accumulation_matches_one_big_batch():
    results = []
    for accumulation in (1, 4):
        config = make_config(gradient_accumulation_steps=accumulation, max_steps=5, eval_every=0)
        trainer = new_trainer(config, dropout=0.0)
        results.append(([row["loss"] for row in trainer.train()], trainer.model.state_dict()))
    assert results[0][0] == pytest.approx(results[1][0], abs=1e-6)
    for key, value in results[0][1].items():
        torch.testing.assert_close(results[1][1][key], value, atol=1e-5, rtol=1e-5)


def test_resume_after_interruption_is_bit_for_bit(tmp_path):
    # 60 blocks / batch 8 = 7 batches per epoch, so the 12 steps cross an epoch boundary
    # and the shuffled order must resume too; dropout checks the RNG state resumes.
    straight = new_trainer(make_config(output_dir=str(tmp_path / "straight")))
    expected = straight.train()

    first = new_trainer(make_config(output_dir=str(tmp_path / "resumed"), checkpoint_every=5))
    first.train(until_step=7)  # checkpoints at 5 and 7 ... then the process "dies"
    del first
    second = new_trainer(make_config(output_dir=str(tmp_path / "resumed")), model_seed=123)
    history = second.train(resume_from=tmp_path / "resumed" / "checkpoint.pt")

    assert [row["loss"] for row in history] == [row["loss"] for row in expected]
    assert [row.get("eval_loss") for row in history] == [row.get("eval_loss") for row in expected]
    for key, value in straight.model.state_dict().items():
        assert torch.equal(second.model.state_dict()[key], value), key


def test_checkpoint_is_weights_only_loadable_and_complete(tmp_path):
    trainer = new_trainer(make_config(max_steps=3, output_dir=str(tmp_path)))
    trainer.train()
    raw = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert raw["step"] == 3 and raw["data_position"] == {"epoch": 0, "batch": 3}
    assert raw["config"]["batch_size"] == 8 and len(raw["rng_states"]) == 1
    assert set(raw) >= {"model", "optimizer", "scheduler", "history"}
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 3


def test_interrupted_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    trainer = new_trainer(make_config(max_steps=4, output_dir=str(tmp_path)))
    trainer.train(until_step=2)
    before = (tmp_path / "checkpoint.pt").read_bytes()

    def crash_mid_write(obj, file):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt  # e.g. Ctrl-C while saving

    monkeypatch.setattr(checkpoint_module.torch, "save", crash_mid_write)
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temp file left
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 2


def test_clear_errors():
    with pytest.raises(ValueError, match="fewer than one batch"):
        Trainer(TinyLM(), make_data(40), make_config(batch_size=8))
    trainer = Trainer(TinyLM(), make_data(), make_config())
    trainer.collate_fn = lambda items: {"input_ids": torch.stack([i["input_ids"] for i in items])}
    with pytest.raises(ValueError, match="must contain labels"):
        trainer.train()


def test_progress_bar_shows_loss_and_tokens_per_second(capsys):
    trainer = new_trainer(make_config(max_steps=2, warmup_steps=1, progress=True, eval_every=0))
    trainer.train()
    shown = capsys.readouterr().err
    assert "loss=" in shown and "tok_s=" in shown


@pytest.mark.slow
def test_tiny_gpt_learns_a_repetitive_corpus():
    from minitransformers import GPTConfig, GPTLMHeadModel

    seed_everything(0)
    model = GPTLMHeadModel(GPTConfig.preset("tiny", vocab_size=32, max_positions=32))
    pattern = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7])
    data = CausalLMDataset(pattern.repeat(100), block_size=24, stride=5)
    config = make_config(
        max_steps=30,
        batch_size=8,
        gradient_accumulation_steps=1,
        learning_rate=3e-3,
        min_learning_rate=3e-4,
        warmup_steps=5,
        eval_every=0,
    )
    history = Trainer(model, data, config).train()
    assert history[0]["loss"] > 3.0  # about ln(32) = 3.47 at the start
    assert history[-1]["loss"] < 0.4 * history[0]["loss"]


def test_bert_pretraining_trains_on_mlm_nsp_batches():
    from minitransformers import BertConfig, BertForPreTraining
    from minitransformers.data import MaskedLMDataset

    seed_everything(0)
    segments = [torch.randint(5, 60, (int(n),)).tolist() for n in torch.randint(3, 12, (64,))]
    data = MaskedLMDataset(
        segments,
        block_size=24,
        cls_token_id=1,
        sep_token_id=2,
        pad_token_id=0,
        mask_token_id=3,
        vocab_size=60,
        next_sentence=True,
    )
    model = BertForPreTraining(BertConfig.preset("tiny", vocab_size=60, pad_token_id=0))
    history = Trainer(model, data, make_config(max_steps=6, eval_every=0)).train()
    assert len(history) == 6 and all(math.isfinite(row["loss"]) for row in history)
    # MLM (about ln 60) plus NSP (about ln 2) at the start: both heads receive labels.
    assert history[0]["loss"] > math.log(60)


def test_a_resumed_run_counts_the_wall_time_of_its_earlier_part(tmp_path):
    # A model card quotes the run's wall time; after a resume it must not be only the last part's.
    first = new_trainer(make_config(output_dir=str(tmp_path), checkpoint_every=5))
    first.train(until_step=5)
    first.seconds_before_resume = 600.0  # as if the part before this one had run for ten minutes
    first.save_checkpoint()
    second = new_trainer(make_config(output_dir=str(tmp_path)))
    second.load_checkpoint()
    assert 600.0 < second.seconds_before_resume < 660.0
    assert second.wall_seconds >= second.seconds_before_resume
    assert second.resumed_at_steps == [5]


def test_a_checkpoint_without_wall_time_falls_back_to_its_logged_throughput(tmp_path, monkeypatch):
    first = new_trainer(make_config(output_dir=str(tmp_path), log_every=1))
    first.train(until_step=4)
    state = checkpoint_module.load_checkpoint(tmp_path / "checkpoint.pt")
    state.pop("wall_seconds")  # written before checkpoints had one
    rows = [row for row in state["history"] if "tokens_per_s" in row]
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    # each step reads 8 blocks of 8 tokens
    expected = sum(64 / row["tokens_per_s"] for row in rows)
    monkeypatch.setattr(checkpoint_module, "load_checkpoint", lambda path, map_location="cpu": state)
    second = new_trainer(make_config(output_dir=str(tmp_path)))
    second.load_checkpoint()
    assert second.seconds_before_resume == pytest.approx(expected)
