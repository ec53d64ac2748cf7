import pytest
import torch

from minitransformers import BertConfig, BertModel, GPTConfig, GPTLMHeadModel
from minitransformers.device import describe_device, pick_device, pick_dtype


def test_pick_device_auto_and_errors():
    device = pick_device("auto")
    assert device.type in ("cpu", "cuda", "mps")
    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="choose one of"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            pick_device("cuda")


def test_pick_dtype(capsys):
    assert pick_dtype("auto", "cpu") == torch.float32
    assert pick_dtype("bf16", "cpu", verbose=True) == torch.bfloat16
    assert "bfloat16" in capsys.readouterr().out
    with pytest.raises(ValueError, match="float16 on the CPU"):
        pick_dtype("float16", "cpu")
    with pytest.raises(ValueError, match="unknown dtype"):
        pick_dtype("int8")
    assert describe_device("cpu").startswith("cpu (")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_fully_masked_rows_stay_finite(dtype):
    model = GPTLMHeadModel(GPTConfig.preset("tiny")).eval().to(dtype)
    ids = torch.randint(0, 1000, (2, 6))
    attention_mask = torch.tensor([[0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    out = model(ids, attention_mask=attention_mask, output_attentions=True)
    assert out.logits.dtype == dtype
    assert torch.isfinite(out.logits).all()
    assert all(torch.isfinite(a).all() for a in out.attentions)
    # The pad query at position 0 sees no key: its attention row is all zeros.
    assert (out.attentions[0][0, :, 0] == 0).all()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bert", "gpt"])
def test_torch_compile_matches_eager(kind):
    torch._dynamo.reset()
    if kind == "bert":
        model = BertModel(BertConfig.preset("tiny")).eval()
    else:
        model = GPTLMHeadModel(GPTConfig.preset("tiny")).eval()
    ids = torch.randint(0, 1000, (2, 12))
    attention_mask = torch.tensor([[1] * 12, [1] * 8 + [0] * 4])
    # fullgraph=True fails loudly on any graph break in the hand-written attention path.
    compiled = torch.compile(model, fullgraph=True)
    with torch.no_grad():
        eager = model(ids, attention_mask=attention_mask)
        fast = compiled(ids, attention_mask=attention_mask)
    key = "last_hidden_state" if kind == "bert" else "logits"
    assert torch.allclose(getattr(fast, key), getattr(eager, key), atol=1e-5)


@pytest.mark.slow
def test_torch_compile_training_step_matches_eager():
    torch._dynamo.reset()
    config = GPTConfig.preset("tiny", hidden_dropout=0.0, attention_dropout=0.0)
    eager = GPTLMHeadModel(config)
    compiled_model = GPTLMHeadModel(config)
    compiled_model.load_state_dict(eager.state_dict())
    compiled = torch.compile(compiled_model, fullgraph=True)
    ids = torch.randint(0, 1000, (2, 16))
    eager_loss = eager(ids, labels=ids).loss
    compiled_loss = compiled(ids, labels=ids).loss
    eager_loss.backward()
    compiled_loss.backward()
    assert torch.allclose(compiled_loss, eager_loss, atol=1e-5)
    for (name, p_eager), p_compiled in zip(eager.named_parameters(), compiled_model.parameters()):
        assert torch.allclose(p_compiled.grad, p_eager.grad, atol=1e-5), name
