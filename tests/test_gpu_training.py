"""The trainer's CUDA path: pinned non-blocking batches, fused AdamW, compile and bf16 (needs a GPU)."""

import pytest
import torch

from minitransformers import GPTConfig, GPTLMHeadModel
from minitransformers.data import CausalLMDataset
from minitransformers.training import TrainConfig, Trainer, seed_everything

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def _run(compile_model: bool):
    seed_everything(0)
    model = GPTLMHeadModel(GPTConfig.preset("tiny", attn_impl="sdpa", hidden_dropout=0.0, attention_dropout=0.0))
    ids = torch.randint(1000, (4096,), generator=torch.Generator().manual_seed(0))
    config = TrainConfig(max_steps=30, batch_size=16, learning_rate=1e-3, min_learning_rate=1e-4, warmup_steps=3,
                         eval_every=10, keep_best=True, log_every=10, device="cuda", progress=False,
                         autocast_dtype="bfloat16", compile=compile_model)
    trainer = Trainer(model, CausalLMDataset(ids, 64, stride=1), config, eval_dataset=CausalLMDataset(ids, 64))
    history = trainer.train()
    assert trainer.optimizer.defaults["fused"] is True
    return trainer, history


def test_compiled_bf16_training_matches_eager_and_keeps_the_best():
    eager, eager_history = _run(False)
    compiled, compiled_history = _run(True)
    for a, b in zip(eager_history, compiled_history):
        assert b["loss"] == pytest.approx(a["loss"], rel=0.02)  # bf16 kernels differ in rounding only
    assert compiled.best["step"] is not None
    compiled.restore_best()
    assert compiled.evaluate() == pytest.approx(compiled.best["loss"], rel=1e-3)


def test_a_cuda_step_does_not_read_the_batch_back_from_the_gpu(monkeypatch):
    seed_everything(0)
    model = GPTLMHeadModel(GPTConfig.preset("tiny", attn_impl="sdpa"))
    ids = torch.randint(1000, (4096,), generator=torch.Generator().manual_seed(0))
    trainer = Trainer(model, CausalLMDataset(ids, 64), TrainConfig(
        max_steps=3, batch_size=8, learning_rate=1e-3, min_learning_rate=1e-4, warmup_steps=1, eval_every=0,
        log_every=3, device="cuda", progress=False))
    devices = []
    original = torch.aminmax
    monkeypatch.setattr(torch, "aminmax",
                        lambda tensor, **kw: devices.append(tensor.device.type) or original(tensor, **kw))
    trainer.train()
    assert devices == ["cpu"] * 3  # checked on the host before the copy, never on the GPU
