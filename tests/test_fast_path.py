"""The fused attention path (``attn_impl="sdpa"``) equals the hand-written one and pays for nothing extra."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from minitransformers import BertConfig, BertModel, GPTConfig, GPTLMHeadModel, new_cache
from minitransformers.feedforward import ACTIVATIONS


def _pair(config_class, model_class, **overrides):
    torch.manual_seed(0)
    settings = dict(hidden_dropout=0.0, attention_dropout=0.0, **overrides)
    manual = model_class(config_class.preset("tiny", attn_impl="manual", **settings)).eval()
    fast = model_class(config_class.preset("tiny", attn_impl="sdpa", **settings)).eval()
    fast.load_state_dict(manual.state_dict())
    return manual, fast


def _spy_on_sdpa(monkeypatch) -> list:
    """Record ``(t, s, attn_mask, is_causal)`` of every call to torch's fused attention."""
    calls = []
    original = F.scaled_dot_product_attention

    def spy(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, **kwargs):
        calls.append((q.shape[2], k.shape[2], attn_mask, is_causal))
        return original(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", spy)
    return calls


def _grads(model):
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("positional", ["learned", "rotary", "alibi"])
def test_gpt_fast_path_matches_manual_forward_and_gradients(positional):
    manual, fast = _pair(GPTConfig, GPTLMHeadModel, positional=positional)
    ids = torch.randint(0, 1000, (2, 9))
    for model in (manual, fast):
        model(ids, labels=ids).loss.backward()
    torch.testing.assert_close(fast(ids).logits, manual(ids).logits, atol=1e-5, rtol=1e-5)
    expected, got = _grads(manual), _grads(fast)
    assert expected.keys() == got.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)


def test_gpt_fast_path_with_padding_and_cache_matches_manual():
    manual, fast = _pair(GPTConfig, GPTLMHeadModel)
    ids = torch.randint(0, 1000, (2, 7))
    attention_mask = torch.ones(2, 7, dtype=torch.long)
    attention_mask[0, :3] = 0  # left padding: the padded queries see no key at all
    with torch.no_grad():
        torch.testing.assert_close(fast(ids, attention_mask=attention_mask).logits,
                                   manual(ids, attention_mask=attention_mask).logits, atol=1e-5, rtol=1e-5)
        for model in (manual, fast):
            cache = new_cache(model.config.n_layers)
            steps = [model(ids[:, :4], cache=cache).logits] + [model(ids[:, i:i + 1], cache=cache).logits
                                                              for i in range(4, 7)]
            torch.testing.assert_close(torch.cat(steps, dim=1), manual(ids).logits, atol=1e-5, rtol=1e-5)


def test_bert_fast_path_with_padding_matches_manual_gradients():
    manual, fast = _pair(BertConfig, BertModel)
    ids = torch.randint(0, 1000, (2, 6))
    attention_mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2])
    for model in (manual, fast):
        model(ids, attention_mask=attention_mask).last_hidden_state.pow(2).mean().backward()
    expected, got = _grads(manual), _grads(fast)
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)


def test_a_causal_unpadded_batch_uses_is_causal_without_a_mask_tensor(monkeypatch):
    _, fast = _pair(GPTConfig, GPTLMHeadModel)
    calls = _spy_on_sdpa(monkeypatch)
    monkeypatch.setattr("minitransformers.masks.causal_mask", None)  # building a mask would fail
    monkeypatch.setattr("minitransformers.attention.causal_mask", None)
    fast(torch.randint(0, 1000, (2, 8)))
    assert [(mask, causal) for _, _, mask, causal in calls] == [(None, True)] * fast.config.n_layers


def test_gelu_tanh_is_torchs_fused_gelu():
    x = torch.linspace(-4, 4, 101)
    by_formula = 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    torch.testing.assert_close(ACTIVATIONS["gelu_tanh"](x), by_formula, atol=1e-6, rtol=1e-6)
    assert ACTIVATIONS["gelu_tanh"].func is F.gelu


def test_a_one_token_cached_step_attends_without_a_mask(monkeypatch):
    """A generation step's single new token is the last position: it may see every key."""
    manual, fast = _pair(GPTConfig, GPTLMHeadModel)
    ids = torch.randint(0, 1000, (2, 7))
    seen = _spy_on_sdpa(monkeypatch)
    with torch.no_grad():
        cache = new_cache(fast.config.n_layers)
        fast(ids[:, :6], cache=cache)
        seen.clear()
        step = fast(ids[:, 6:], cache=cache).logits
        expected = manual(ids).logits[:, 6:]
    assert seen == [(1, 7, None, False)] * fast.config.n_layers
    torch.testing.assert_close(step, expected, atol=1e-5, rtol=1e-5)


def test_generate_without_padding_builds_no_mask_and_matches_manual(monkeypatch):
    manual, fast = _pair(GPTConfig, GPTLMHeadModel)
    prompt = torch.randint(0, 1000, (2, 5))
    expected = manual.generate(prompt, max_new_tokens=6, eos_token_id=[])
    monkeypatch.setattr("minitransformers.masks.causal_mask", None)  # building a mask would fail
    monkeypatch.setattr("minitransformers.attention.causal_mask", None)
    monkeypatch.setattr("minitransformers.models.gpt.padding_mask", None)
    assert torch.equal(fast.generate(prompt, max_new_tokens=6, eos_token_id=[]), expected)
