"""GPU checks: run where CUDA is available, reported as skipped (with the reason) elsewhere."""

import pytest
import torch

from minitransformers import BertConfig, BertModel, GPTConfig, GPTLMHeadModel

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine"),
]


def _gpt_pair(**overrides):
    cpu = GPTLMHeadModel(GPTConfig.preset("tiny", **overrides)).eval()
    gpu = GPTLMHeadModel(GPTConfig.preset("tiny", **overrides)).eval()
    gpu.load_state_dict(cpu.state_dict())
    return cpu, gpu.cuda()


@pytest.mark.parametrize("impl", ["manual", "sdpa"])
def test_float32_gpu_matches_cpu(impl):
    torch.backends.cuda.matmul.allow_tf32 = False
    cpu, gpu = _gpt_pair(attn_impl=impl)
    ids = torch.randint(0, 1000, (2, 16))
    mask = torch.tensor([[1] * 16, [1] * 10 + [0] * 6])
    expected = cpu(ids, attention_mask=mask).logits
    actual = gpu(ids.cuda(), attention_mask=mask.cuda()).logits.cpu()
    assert torch.allclose(actual[0], expected[0], atol=1e-4)
    assert torch.allclose(actual[1, :10], expected[1, :10], atol=1e-4)
    bert_cpu = BertModel(BertConfig.preset("tiny", attn_impl=impl)).eval()
    bert_gpu = BertModel(BertConfig.preset("tiny", attn_impl=impl)).eval()
    bert_gpu.load_state_dict(bert_cpu.state_dict())
    expected = bert_cpu(ids, attention_mask=mask).last_hidden_state
    actual = bert_gpu.cuda()(ids.cuda(), attention_mask=mask.cuda()).last_hidden_state.cpu()
    assert torch.allclose(actual[0], expected[0], atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_generation_with_and_without_cache(dtype):
    _, gpu = _gpt_pair()
    gpu = gpu.to(dtype)
    prompt = torch.randint(0, 1000, (2, 5), device="cuda")
    with_cache = gpu.generate(prompt, max_new_tokens=20)
    without_cache = gpu.generate(prompt, max_new_tokens=20, use_cache=False)
    assert with_cache.shape == (2, 25)
    assert torch.equal(with_cache, without_cache)
    assert torch.isfinite(gpu(with_cache).logits).all()


def test_kv_cache_step_logits_equal_full_recompute():
    _, gpu = _gpt_pair()
    from minitransformers import new_cache

    ids = torch.randint(0, 1000, (1, 12), device="cuda")
    full = gpu(ids).logits
    cache = new_cache(gpu.config.n_layers)
    gpu(ids[:, :8], cache=cache)
    stepped = [gpu(ids[:, i : i + 1], cache=cache).logits[:, -1] for i in range(8, 12)]
    assert torch.allclose(torch.stack(stepped, dim=1), full[:, 8:], atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_short_training_run_loss_falls(dtype):
    torch.manual_seed(0)
    model = GPTLMHeadModel(GPTConfig.preset("tiny", hidden_dropout=0.0, attention_dropout=0.0)).cuda()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    data = torch.arange(64, device="cuda").repeat(8, 1) % 50  # a repeating pattern to learn
    losses = []
    for _ in range(60):
        with torch.autocast("cuda", dtype=dtype, enabled=dtype != torch.float32):
            loss = model(data, labels=data).loss
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("autocast_dtype", ["bfloat16", "float16"])
def test_trainer_mixed_precision_on_gpu(autocast_dtype, tmp_path):
    from minitransformers.data import CausalLMDataset
    from minitransformers.training import TrainConfig, Trainer

    torch.manual_seed(0)
    model = GPTLMHeadModel(GPTConfig.preset("tiny", hidden_dropout=0.0, attention_dropout=0.0))
    data = CausalLMDataset(torch.arange(4096) % 50, block_size=32)
    config = TrainConfig(max_steps=40, batch_size=16, learning_rate=3e-3, warmup_steps=4, device="cuda",
                         autocast_dtype=autocast_dtype, progress=False, output_dir=str(tmp_path))
    trainer = Trainer(model, data, config)
    history = trainer.train()
    assert trainer.grad_scaler.is_enabled() == (autocast_dtype == "float16")
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    assert (tmp_path / "checkpoint.pt").exists()


def _peaked_gpu_model(**overrides):
    torch.manual_seed(0)
    config = GPTConfig.preset("tiny", initializer_range=0.2, max_positions=64, **overrides)
    return GPTLMHeadModel(config).eval().cuda()


@pytest.mark.parametrize("impl", ["manual", "sdpa"])
def test_compiled_decoding_ids_equal_eager_ids_on_cuda(impl):
    torch.backends.cuda.matmul.allow_tf32 = False
    model = _peaked_gpu_model(attn_impl=impl)
    ids = torch.randint(0, 1000, (2, 7), device="cuda")
    mask = torch.tensor([[0, 0, 1, 1, 1, 1, 1], [1] * 7], device="cuda")
    eager = model.generate(ids, max_new_tokens=24, attention_mask=mask)
    compiled = model.generate(ids, max_new_tokens=24, attention_mask=mask, compile=True)
    assert torch.equal(compiled, eager)
    again = model.generate(ids[:, 1:], max_new_tokens=24, compile=True)  # replays the captured step
    assert torch.equal(again, model.generate(ids[:, 1:], max_new_tokens=24))


def test_preallocated_cache_is_exact_on_cuda():
    from minitransformers import new_cache

    torch.backends.cuda.matmul.allow_tf32 = False
    model = _peaked_gpu_model()
    ids = torch.randint(0, 1000, (3, 20), device="cuda")
    full = model(ids).logits
    cache = new_cache(model.config.n_layers, capacity=20)
    pieces = [model(ids[:, a:b], cache=cache).logits for a, b in [(0, 8), (8, 9), (9, 15), (15, 20)]]
    assert torch.allclose(torch.cat(pieces, dim=1), full, atol=1e-4)
    mask = torch.ones_like(ids[:, :8])
    mask[0, :3] = 0
    cached = model.generate(ids[:, :8], max_new_tokens=30, attention_mask=mask)
    uncached = model.generate(ids[:, :8], max_new_tokens=30, attention_mask=mask, use_cache=False)
    assert torch.equal(cached, uncached)
