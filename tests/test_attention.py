import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformers.attention import MultiHeadAttention, attend
from minitransformers.masks import causal_mask, combine_masks, padding_mask


def _reference_attention(q, k, v, mask=None):
    """Attention written out with loops over batch and heads, the textbook way."""
    b, h, t, d = q.shape
    out = torch.zeros_like(q)
    for bi in range(b):
        for hi in range(h):
            scores = q[bi, hi] @ k[bi, hi].T / math.sqrt(d)
            if mask is not None:
                m = mask.expand(b, h, t, k.shape[2])[bi, hi]
                scores = scores.masked_fill(~m, float("-inf"))
            out[bi, hi] = torch.softmax(scores, dim=-1) @ v[bi, hi]
    return out


def test_hand_computed_three_token_example():
    # One head of size 1: queries/keys/values are plain numbers.
    q = torch.tensor([1.0, 0.0, 2.0]).view(1, 1, 3, 1)
    k = torch.tensor([1.0, 2.0, 0.0]).view(1, 1, 3, 1)
    v = torch.tensor([10.0, 20.0, 30.0]).view(1, 1, 3, 1)
    out, weights = attend(q, k, v)
    # query 0 scores: 1*1, 1*2, 1*0 -> softmax([1, 2, 0])
    e = [math.exp(1), math.exp(2), math.exp(0)]
    expected_w0 = [x / sum(e) for x in e]
    assert weights[0, 0, 0].tolist() == pytest.approx(expected_w0, rel=1e-6)
    assert out[0, 0, 0, 0].item() == pytest.approx(sum(w * x for w, x in zip(expected_w0, [10, 20, 30])), rel=1e-6)
    # query 1 is all zeros: every score is 0, so the weights are uniform.
    assert weights[0, 0, 1].tolist() == pytest.approx([1 / 3] * 3)


@settings(max_examples=25, deadline=None)
@given(
    b=st.integers(1, 3), h=st.integers(1, 3), t=st.integers(1, 6), d=st.integers(1, 8),
    causal=st.booleans(), seed=st.integers(0, 10_000),
)
def test_matches_loop_reference_and_torch(b, h, t, d, causal, seed):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(b, h, t, d, generator=g) for _ in range(3))
    mask = causal_mask(t) if causal else None
    out, weights = attend(q, k, v, mask)
    assert torch.allclose(out, _reference_attention(q, k, v, mask), atol=1e-5)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-5)
    assert torch.allclose(weights.sum(-1), torch.ones(b, h, t), atol=1e-5)


def test_weights_are_zero_where_masked():
    q, k, v = (torch.randn(2, 2, 4, 8) for _ in range(3))
    mask = combine_masks(causal_mask(4), padding_mask(torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])))
    _, weights = attend(q, k, v, mask)
    assert (weights.masked_select(~mask.expand_as(weights)) == 0).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_fully_masked_row_gives_zeros_not_nan(dtype):
    q, k, v = (torch.randn(1, 1, 3, 4).to(dtype) for _ in range(3))
    mask = torch.tensor([[False, False, False], [True, False, False], [True, True, False]])
    out, weights = attend(q, k, v, mask)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    assert (out[0, 0, 0] == 0).all() and (weights[0, 0, 0] == 0).all()


def _random_mask(b, t, g):
    lengths = torch.randint(1, t + 1, (b,), generator=g)
    attention_mask = (torch.arange(t) < lengths[:, None]).long()
    return combine_masks(causal_mask(t), padding_mask(attention_mask))


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("use_mask", [False, True])
def test_sdpa_impl_equals_manual(fused, use_mask):
    torch.manual_seed(1)
    manual = MultiHeadAttention(32, 4, fused_qkv=fused, impl="manual").eval()
    fast = MultiHeadAttention(32, 4, fused_qkv=fused, impl="sdpa").eval()
    fast.load_state_dict(manual.state_dict())
    x = torch.randn(3, 7, 32)
    mask = _random_mask(3, 7, torch.Generator().manual_seed(0)) if use_mask else None
    expected, _ = manual(x, mask)
    actual, _ = fast(x, mask)
    assert torch.allclose(actual, expected, atol=1e-5)


def test_sdpa_impl_fully_masked_row_matches_manual():
    manual = MultiHeadAttention(16, 2, impl="manual").eval()
    fast = MultiHeadAttention(16, 2, impl="sdpa").eval()
    fast.load_state_dict(manual.state_dict())
    x = torch.randn(1, 3, 16)
    mask = torch.tensor([[False, False, False], [True, True, False], [True, True, True]])
    expected, _ = manual(x, mask)
    actual, _ = fast(x, mask)
    assert torch.isfinite(actual).all()
    assert torch.allclose(actual, expected, atol=1e-5)


def test_output_attentions_works_for_both_impls():
    for impl in ("manual", "sdpa"):
        attention = MultiHeadAttention(16, 4, impl=impl)
        out, weights = attention(torch.randn(2, 5, 16), output_attentions=True)
        assert out.shape == (2, 5, 16)
        assert weights.shape == (2, 4, 5, 5)
        _, none = attention(torch.randn(2, 5, 16))
        assert none is None


def test_fused_and_separate_projections_compute_the_same_function():
    separate = MultiHeadAttention(16, 4, fused_qkv=False).eval()
    fused = MultiHeadAttention(16, 4, fused_qkv=True).eval()
    with torch.no_grad():
        fused.qkv.weight.copy_(torch.cat([separate.query.weight, separate.key.weight, separate.value.weight]))
        fused.qkv.bias.copy_(torch.cat([separate.query.bias, separate.key.bias, separate.value.bias]))
        fused.output.load_state_dict(separate.output.state_dict())
    x = torch.randn(2, 6, 16)
    assert torch.allclose(fused(x)[0], separate(x)[0], atol=1e-6)


def test_bad_head_count_and_impl_are_rejected():
    with pytest.raises(ValueError, match="not divisible"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="unknown attention impl"):
        MultiHeadAttention(8, 2, impl="flash")
