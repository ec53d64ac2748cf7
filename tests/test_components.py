"""Each worked-example component, tested for the property that defines it."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch
import torch.nn.functional as F

from minitransformers import (
    BertConfig,
    BertModel,
    GPTConfig,
    GPTLMHeadModel,
    MultiHeadAttention,
    new_cache,
)
from minitransformers.components import (
    ALiBiPositions,
    GeGLUFeedForward,
    GroupedQueryAttention,
    RMSNorm,
    RotaryPositions,
    SinusoidalPositions,
    SlidingWindowAttention,
    SwiGLUFeedForward,
    alibi_slopes,
    grouped_query,
)
from minitransformers.masks import causal_mask, sliding_window_mask


def tiny_gpt(**overrides) -> GPTLMHeadModel:
    torch.manual_seed(0)
    settings = {"vocab_size": 50, "hidden_size": 32, "n_heads": 4, "max_positions": 32, "hidden_dropout": 0.0,
                    "attention_dropout": 0.0}
    config = GPTConfig.preset("tiny", **{**settings, **overrides})
    return GPTLMHeadModel(config).eval()


def assert_cache_matches_full(model: GPTLMHeadModel, length: int = 10, prompt: int = 4) -> list:
    """Logits computed token by token through the KV cache equal one full forward pass."""
    ids = torch.randint(0, model.config.vocab_size, (2, length), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = model(ids).logits
        cache = new_cache(model.config.n_layers)
        steps = [model(ids[:, :prompt], cache=cache).logits]
        for i in range(prompt, length):
            steps.append(model(ids[:, i : i + 1], cache=cache).logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-4)
    return cache


# --- rotary -------------------------------------------------------------------------------------

def test_rotary_scores_depend_only_on_relative_position():
    rotary = RotaryPositions(hidden_size=16, max_positions=64, n_heads=2)
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def score(m: int, n: int) -> float:
        rq, _ = rotary.rotate(q, q, torch.tensor([[m]]))
        _, rk = rotary.rotate(k, k, torch.tensor([[n]]))
        return float((rq * rk).sum())

    for offset in (-3, 0, 5):
        same = [score(m, m - offset) for m in (7, 10, 20, 33)]
        assert max(same) - min(same) < 1e-4, (offset, same)
    assert abs(score(10, 7) - score(10, 4)) > 1e-3  # a different distance gives a different score


def test_rotary_is_a_rotation_and_position_zero_is_identity():
    rotary = RotaryPositions(hidden_size=16, max_positions=64, n_heads=2)
    q, k = torch.randn(2, 2, 5, 8), torch.randn(2, 2, 5, 8)
    positions = torch.arange(5).expand(2, 5)
    rq, _rk = rotary.rotate(q, k, positions)
    torch.testing.assert_close(rq.norm(dim=-1), q.norm(dim=-1))
    torch.testing.assert_close(rq[:, :, 0], q[:, :, 0])
    assert not torch.allclose(rq[:, :, 1:], q[:, :, 1:])
    assert len(list(rotary.parameters())) == 0


def test_rotary_model_is_unchanged_by_shifting_all_positions():
    model = tiny_gpt(positional="rotary")
    ids = torch.randint(0, 50, (2, 8))
    with torch.no_grad():
        base = model(ids).logits
        shifted = model(ids, position_ids=torch.arange(5, 13).expand(2, 8)).logits
    torch.testing.assert_close(shifted, base, atol=1e-4, rtol=1e-4)
    assert_cache_matches_full(model)


# --- ALiBi --------------------------------------------------------------------------------------

def test_alibi_slopes_follow_the_paper():
    torch.testing.assert_close(alibi_slopes(8), torch.tensor([2.0 ** -i for i in range(1, 9)]))
    # 6 heads: the 4-head slopes, then every other slope of the 8-head sequence.
    torch.testing.assert_close(alibi_slopes(6), torch.tensor([2.0 ** -e for e in (2, 4, 6, 8, 1, 3)]))


def test_alibi_bias_matches_transformers_bloom():
    from transformers.models.bloom.modeling_bloom import build_alibi_tensor

    n_heads, s = 6, 7
    theirs = build_alibi_tensor(torch.ones(1, s), n_heads, torch.float32)  # (b*h, 1, s): slope * key position
    ours = ALiBiPositions(hidden_size=12, n_heads=n_heads).score_bias(
        torch.tensor([[s - 1]]), torch.arange(s).unsqueeze(0)
    )  # (1, h, 1, s): -slope * (s - 1 - key position)
    # Softmax ignores a per-row constant, so the two differ only by slope * (s - 1).
    torch.testing.assert_close(ours[0, :, 0] - ours[0, :, 0, :1], theirs[:, 0])


def test_alibi_has_no_parameters_and_runs_past_the_trained_length():
    scheme = ALiBiPositions(hidden_size=32, max_positions=16, n_heads=4)
    assert scheme.max_positions is None and len(list(scheme.parameters())) == 0
    bias = scheme.score_bias(torch.arange(5).unsqueeze(0), torch.arange(5).unsqueeze(0))
    assert torch.all(bias.diagonal(dim1=-2, dim2=-1) == 0) and torch.all(bias[0, :, 4, :4] < 0)

    gpt = tiny_gpt(positional="alibi", max_positions=16)
    long_ids = torch.randint(0, 50, (1, 40))
    assert gpt(long_ids).logits.shape == (1, 40, 50)
    assert gpt.generate(long_ids[:, :14], max_new_tokens=6).shape == (1, 20)
    with pytest.raises(ValueError, match="max_positions=16"):
        tiny_gpt(max_positions=16)(long_ids)  # learned positions stop at their table
    bert = BertModel(BertConfig.preset("tiny", positional="alibi", max_positions=16)).eval()
    assert bert(long_ids).last_hidden_state.shape == (1, 40, 64)
    assert_cache_matches_full(gpt, length=24)


# --- sinusoidal ---------------------------------------------------------------------------------

def test_sinusoidal_values_follow_the_formula():
    c = 8
    got = SinusoidalPositions(hidden_size=c, max_positions=100)(torch.tensor([[0, 3, 50]]))
    for row, p in enumerate((0, 3, 50)):
        for f in range(c // 2):
            angle = p / 10000 ** (2 * f / c)
            assert got[0, row, 2 * f].item() == pytest.approx(math.sin(angle), abs=1e-5)
            assert got[0, row, 2 * f + 1].item() == pytest.approx(math.cos(angle), abs=1e-5)


def test_sinusoidal_dot_products_depend_only_on_distance_and_nothing_is_learned():
    scheme = SinusoidalPositions(hidden_size=32, max_positions=100)
    vectors = scheme(torch.arange(60).unsqueeze(0))[0]
    for k in (1, 4, 9):
        dots = (vectors[:-k] * vectors[k:]).sum(dim=-1)
        assert dots.max() - dots.min() < 1e-4
    assert len(list(scheme.parameters())) == 0
    model = tiny_gpt(positional="sinusoidal")
    assert len(list(model.gpt.positional.parameters())) == 0
    assert_cache_matches_full(model)


# --- RMSNorm ------------------------------------------------------------------------------------

def test_rmsnorm_matches_torch_and_ignores_scale_but_not_shift():
    norm = RMSNorm(16, eps=1e-6)
    with torch.no_grad():
        norm.weight.copy_(torch.randn(16))
    x = torch.randn(3, 5, 16)
    torch.testing.assert_close(norm(x), F.rms_norm(x, (16,), norm.weight, eps=1e-6))
    torch.testing.assert_close(norm(7.0 * x), norm(x), atol=1e-5, rtol=1e-4)
    assert not torch.allclose(norm(x + 3.0), norm(x), atol=1e-2)  # no centring, unlike LayerNorm
    model = tiny_gpt(norm="rmsnorm")
    assert isinstance(model.gpt.final_norm, RMSNorm)
    assert_cache_matches_full(model)


# --- SwiGLU -------------------------------------------------------------------------------------

def test_swiglu_is_a_silu_gated_mlp():
    ff = SwiGLUFeedForward(hidden_size=8, intermediate_size=12, bias=False)
    x = torch.randn(2, 3, 8)
    gate = x @ ff.gate.weight.T
    expected = ((gate * torch.sigmoid(gate)) * (x @ ff.expand.weight.T)) @ ff.contract.weight.T
    torch.testing.assert_close(ff(x), expected)
    with torch.no_grad():
        ff.gate.weight.zero_()  # silu(0) = 0: a closed gate lets nothing through
    assert torch.all(ff(x) == 0)
    assert_cache_matches_full(tiny_gpt(feedforward="swiglu"))
    assert tiny_gpt(feedforward="swiglu").gpt.blocks[0].feedforward.gate.bias is not None  # biases: bias=False


@pytest.mark.parametrize("activation, approximate", [("gelu", "none"), ("gelu_tanh", "tanh")])
def test_geglu_is_a_gelu_gated_mlp_following_the_config_activation(activation, approximate):
    ff = GeGLUFeedForward(hidden_size=8, intermediate_size=12, activation=activation)
    x = torch.randn(2, 3, 8)
    gate, value = x @ ff.gate.weight.T + ff.gate.bias, x @ ff.expand.weight.T + ff.expand.bias
    expected = (F.gelu(gate, approximate=approximate) * value) @ ff.contract.weight.T + ff.contract.bias
    torch.testing.assert_close(ff(x), expected)
    model = tiny_gpt(feedforward="geglu", activation=activation)
    assert isinstance(model.gpt.blocks[0].feedforward, GeGLUFeedForward)
    assert_cache_matches_full(model)


# --- grouped-query attention --------------------------------------------------------------------

def test_grouped_query_equals_multi_head_when_every_head_has_its_own_keys():
    torch.manual_seed(0)
    mha = MultiHeadAttention(32, 4, fused_qkv=False)
    gqa = GroupedQueryAttention(32, 4, n_kv_heads=4)
    gqa.load_state_dict(mha.state_dict())  # strict: same names, same shapes
    x = torch.randn(2, 6, 32)
    mask = causal_mask(6)
    out_mha, w_mha = mha(x, mask, output_attentions=True)
    out_gqa, w_gqa = gqa(x, mask, output_attentions=True)
    torch.testing.assert_close(out_gqa, out_mha)
    torch.testing.assert_close(w_gqa, w_mha)


def test_grouped_query_heads_share_keys_within_a_group():
    gqa = GroupedQueryAttention(32, 4, n_kv_heads=2)
    seen = {}
    gqa.hook_k.register_forward_hook(lambda module, args, out: seen.update(k=out))
    gqa(torch.randn(1, 5, 32))
    k = seen["k"]  # (b h s d): heads 0,1 read kv head 0; heads 2,3 read kv head 1
    assert torch.equal(k[:, 0], k[:, 1]) and torch.equal(k[:, 2], k[:, 3])
    assert not torch.allclose(k[:, 1], k[:, 2])
    assert gqa.key.weight.shape == (16, 32)  # 2 kv heads of size 8
    with pytest.raises(ValueError, match=r"must divide n_heads=4.*\[1, 2, 4\]"):
        GroupedQueryAttention(32, 4, n_kv_heads=3)


@pytest.mark.parametrize("attention, n_kv_heads", [(grouped_query(2), 2), ("multi_query", 1)])
def test_grouped_query_cache_shrinks_by_the_group_factor(attention, n_kv_heads):
    mha_cache = assert_cache_matches_full(tiny_gpt(fused_qkv=False))
    gqa_model = tiny_gpt(attention=attention, positional="rotary")
    gqa_cache = assert_cache_matches_full(gqa_model)
    assert gqa_cache[0].keys.shape[1] == n_kv_heads
    assert mha_cache[0].size_in_bytes() == gqa_cache[0].size_in_bytes() * (4 // n_kv_heads)
    ids = torch.randint(0, 50, (2, 5))
    torch.testing.assert_close(
        gqa_model.generate(ids, max_new_tokens=5), gqa_model.generate(ids, max_new_tokens=5, use_cache=False)
    )


def test_grouped_query_sdpa_path_gives_the_same_numbers():
    manual = GroupedQueryAttention(32, 4, n_kv_heads=2)
    fused = GroupedQueryAttention(32, 4, n_kv_heads=2, impl="sdpa")
    fused.load_state_dict(manual.state_dict())
    x, mask = torch.randn(2, 6, 32), causal_mask(6)
    torch.testing.assert_close(fused(x, mask)[0], manual(x, mask)[0], atol=1e-5, rtol=1e-4)


# --- sliding window -----------------------------------------------------------------------------

def test_sliding_window_gpt_attends_exactly_inside_the_window():
    model = tiny_gpt(attention=partial(SlidingWindowAttention, window=3))
    ids = torch.randint(0, 50, (1, 9))
    weights = model(ids, output_attentions=True).attentions[0][0]  # (h t s)
    allowed = sliding_window_mask(9, 3)
    assert torch.all(weights[:, ~allowed] == 0) and torch.all(weights[:, allowed] > 0)
    assert_cache_matches_full(model, length=12)


def test_sliding_window_output_ignores_tokens_outside_the_window():
    model = tiny_gpt(attention=partial(SlidingWindowAttention, window=3), n_layers=1)
    ids = torch.randint(0, 49, (1, 8))
    base = model(ids).logits[0, 7]
    far, near = ids.clone(), ids.clone()
    far[0, 4] += 1  # 3 positions back: outside a window of 3
    near[0, 5] += 1  # 2 positions back: inside
    torch.testing.assert_close(model(far).logits[0, 7], base)
    assert not torch.allclose(model(near).logits[0, 7], base)


def test_sliding_window_in_bert_looks_both_ways():
    config = BertConfig.preset("tiny", attention=partial(SlidingWindowAttention, window=2), attention_dropout=0.0)
    weights = BertModel(config).eval()(torch.randint(0, 100, (1, 5)), output_attentions=True).attentions[0][0]
    band = (torch.arange(5)[:, None] - torch.arange(5)[None, :]).abs() < 2
    assert torch.all(weights[:, ~band] == 0) and torch.all(weights[:, band] > 0)
    with pytest.raises(ValueError, match="window must be a positive integer"):
        SlidingWindowAttention(32, 4, window=0)


# --- every example trains ------------------------------------------------------------------------

@pytest.mark.parametrize("choice", [
    {"positional": "rotary"}, {"positional": "alibi"}, {"positional": "sinusoidal"}, {"norm": "rmsnorm"},
    {"feedforward": "swiglu"}, {"feedforward": "geglu"}, {"attention": "multi_query"},
    {"attention": "sliding_window"},
])
def test_every_example_gets_gradients_in_gpt_and_bert(choice):
    ids = torch.randint(0, 50, (2, 6))
    gpt = tiny_gpt(**choice).train()
    gpt(ids, labels=ids).loss.backward()
    bert = BertModel(BertConfig.preset("tiny", vocab_size=50, **choice))
    bert(ids).last_hidden_state.sum().backward()
    for model in (gpt, bert):
        missing = [n for n, p in model.named_parameters() if "blocks" in n and p.grad is None]
        assert not missing, missing
