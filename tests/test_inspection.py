"""run_with_cache, ActivationCache and the attention summaries (rollout, entropy)."""

import math

import pytest
import torch

from minitransformers import (
    BertConfig,
    BertForMaskedLM,
    BertModel,
    GPTConfig,
    GPTLMHeadModel,
    GPTModel,
)
from minitransformers.inspection import (
    ActivationCache,
    attention_entropy,
    attention_rollout,
    head_entropy,
    hook_names,
    run_with_cache,
)

SMALL = dict(vocab_size=50, hidden_size=32, n_layers=3, n_heads=4, max_positions=32)


def _gpt(attn_impl="manual", cls=GPTLMHeadModel):
    torch.manual_seed(0)
    return cls(GPTConfig(**SMALL, attn_impl=attn_impl)).eval()


def _bert(attn_impl="manual", cls=BertForMaskedLM):
    torch.manual_seed(0)
    return cls(BertConfig(**SMALL, attn_impl=attn_impl)).eval()


def _inputs(b=2, t=9):
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1, SMALL["vocab_size"], (b, t), generator=generator)
    mask = torch.ones(b, t, dtype=torch.long)
    mask[1, -3:] = 0  # the second example is padded
    return ids, mask


def _no_hooks_left(model):
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


@pytest.mark.parametrize("make", [_gpt, _bert], ids=["gpt", "bert"])
@pytest.mark.parametrize("attn_impl", ["manual", "sdpa"])
def test_cached_weights_equal_the_models_attentions(make, attn_impl):
    reference = make("manual")
    model = make(attn_impl)
    model.load_state_dict(reference.state_dict())
    ids, mask = _inputs()
    expected = reference(ids, attention_mask=mask, output_attentions=True).attentions
    output, cache = model.run_with_cache(ids, attention_mask=mask)
    assert len(expected) == SMALL["n_layers"]
    for layer, weights in enumerate(expected):
        torch.testing.assert_close(cache["weights", layer], weights)
        torch.testing.assert_close(cache.attention_weights(layer), weights)
    assert all(
        torch.equal(a, b)
        for a, b in zip(cache.attention_weights(), cache.stack("weights"), strict=True)
    )
    # Caching must not change what the model computes.
    torch.testing.assert_close(output.logits, reference(ids, attention_mask=mask).logits)
    assert _no_hooks_left(model)


@pytest.mark.parametrize("attn_impl", ["manual", "sdpa"])
def test_gpt_residual_stream_adds_up(attn_impl):
    model = _gpt(attn_impl)
    ids, mask = _inputs()
    output, cache = model.run_with_cache(ids, attention_mask=mask)
    torch.testing.assert_close(cache["hook_embeddings"], cache["resid_pre", 0])
    for layer in range(SMALL["n_layers"]):
        pre, post = cache["resid_pre", layer], cache["resid_post", layer]
        mid = pre + cache["attention_out", layer]
        torch.testing.assert_close(cache["resid_mid", layer], mid)
        torch.testing.assert_close(post, mid + cache["feedforward_out", layer])
        torch.testing.assert_close(
            post, pre + cache["attention_out", layer] + cache["feedforward_out", layer]
        )
        if layer + 1 < SMALL["n_layers"]:
            torch.testing.assert_close(cache["resid_pre", layer + 1], post)
    # The model's last hidden state is the final norm of the stream.
    last = model.gpt.final_norm(cache["resid_post", SMALL["n_layers"] - 1])
    torch.testing.assert_close(last, output.last_hidden_state)
    assert cache.residual_stream().shape == (SMALL["n_layers"] + 1, 2, 9, SMALL["hidden_size"])


def test_bert_post_ln_stream_and_hidden_states():
    model = _bert(cls=BertModel)
    ids, mask = _inputs()
    output, cache = model.run_with_cache(ids, attention_mask=mask, output_hidden_states=True)
    stream = cache.residual_stream()
    for layer, hidden in enumerate(output.hidden_states):
        torch.testing.assert_close(stream[layer], hidden)
    block = model.blocks[0]
    # Post-LN: the norm comes after the residual sum.
    expected_mid = block.attention_norm(cache["resid_pre", 0] + cache["attention_out", 0])
    torch.testing.assert_close(cache["resid_mid", 0], expected_mid)


def test_attention_pieces_are_consistent():
    model = _gpt()
    ids, mask = _inputs()
    _, cache = model.run_with_cache(ids, attention_mask=mask)
    q, k = cache["q", 1], cache["k", 1]
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    torch.testing.assert_close(cache["scores", 1], scores)
    weights = cache["weights", 1]
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]))
    assert torch.all(weights.triu(diagonal=1) == 0)  # causal
    assert torch.all(weights[1, :, :, -3:] == 0)  # padded keys
    torch.testing.assert_close(cache["head_outputs", 1], weights @ cache["v", 1])


def test_names_are_stable_and_shared_by_body_and_head_models():
    names = hook_names(_gpt())
    assert names == hook_names(_gpt(cls=GPTModel))
    assert names[0] == "hook_embeddings"
    assert names[1:15] == [
        "blocks.0.hook_resid_pre",
        "blocks.0.attention.hook_q",
        "blocks.0.attention.hook_k",
        "blocks.0.attention.hook_v",
        "blocks.0.attention.hook_scores",
        "blocks.0.attention.hook_masked_scores",
        "blocks.0.attention.hook_weights",
        "blocks.0.attention.hook_head_outputs",
        "blocks.0.hook_attention_out",
        "blocks.0.hook_resid_mid",
        "blocks.0.feedforward.hook_hidden",
        "blocks.0.hook_feedforward_out",
        "blocks.0.hook_resid_post",
        "blocks.1.hook_resid_pre",
    ]
    assert hook_names(_bert()) == names
    ids, _ = _inputs()
    _, cache = _gpt().run_with_cache(ids)
    assert isinstance(cache, ActivationCache) and cache.names() == names and list(cache) == names
    # Full module names and (kind, layer) pairs reach the same tensor.
    same = cache["blocks.2.attention.hook_v"]
    assert cache["gpt.blocks.2.attention.hook_v"] is same and cache["v", 2] is same
    assert "blocks.2.attention.hook_v" in cache and "blocks.9.attention.hook_v" not in cache


def test_names_filter_and_detach():
    model = _gpt()
    ids, _ = _inputs()
    _, cache = run_with_cache(model, ids, names_filter=lambda name: name.endswith("hook_weights"))
    assert cache.names() == [f"blocks.{i}.attention.hook_weights" for i in range(SMALL["n_layers"])]
    _, cache = run_with_cache(model, ids, names_filter=["hook_embeddings", ("q", 1)])
    assert cache.names() == ["hook_embeddings", "blocks.1.attention.hook_q"]
    _, cache = run_with_cache(model, ids, names_filter="blocks.0.hook_resid_post")
    assert cache.names() == ["blocks.0.hook_resid_post"]
    assert not cache["blocks.0.hook_resid_post"].requires_grad
    _, cache = run_with_cache(model, ids, names_filter="blocks.0.hook_resid_post", detach=False)
    assert cache["blocks.0.hook_resid_post"].grad_fn is not None


def test_unknown_names_get_close_matches():
    model = _gpt()
    ids, _ = _inputs()
    with pytest.raises(KeyError, match="blocks.0.attention.hook_weights"):
        run_with_cache(model, ids, names_filter=["blocks.0.attention.hook_weight"])
    _, cache = run_with_cache(model, ids)
    with pytest.raises(KeyError, match="hook_resid_post"):
        cache["blocks.1.hook_resid_posts"]
    with pytest.raises(KeyError, match=r"\('weights', 0\)"):
        cache["weights"]
    assert _no_hooks_left(model)


def test_run_with_cache_cleans_up_after_a_failing_forward():
    model = _gpt()
    bad_ids = torch.full((1, 4), SMALL["vocab_size"] + 5)  # outside the vocabulary
    with pytest.raises(ValueError, match="vocabulary"):
        model.run_with_cache(bad_ids)
    assert _no_hooks_left(model)


# --- attention summaries -------------------------------------------------------------


def _random_attentions(n_layers=3, b=2, h=4, t=6, causal=False):
    generator = torch.Generator().manual_seed(2)
    scores = torch.randn(n_layers, b, h, t, t, generator=generator)
    if causal:
        scores = scores.masked_fill(torch.ones(t, t).triu(1).bool(), float("-inf"))
    return list(torch.softmax(scores, dim=-1))


def test_rollout_matches_a_hand_written_product():
    attentions = _random_attentions()
    rollout = attention_rollout(attentions)
    expected = None
    for weights in attentions:  # (b h t s)
        layer = 0.5 * weights.mean(dim=1) + 0.5 * torch.eye(6)
        layer = layer / layer.sum(-1, keepdim=True)
        expected = layer if expected is None else layer @ expected
    torch.testing.assert_close(rollout, expected)
    torch.testing.assert_close(rollout.sum(-1), torch.ones(2, 6))


def test_rollout_properties():
    attentions = _random_attentions(causal=True)
    rollout = attention_rollout(attentions, head_fusion="max")
    assert torch.all(rollout.triu(1) == 0)  # causal weights roll out causally
    identity = [torch.eye(5).expand(1, 2, 5, 5)] * 3
    torch.testing.assert_close(attention_rollout(identity), torch.eye(5).expand(1, 5, 5))
    one = _random_attentions(n_layers=1)
    torch.testing.assert_close(attention_rollout(one, residual=False), one[0].mean(dim=1))
    with pytest.raises(ValueError, match="layers, batch, heads"):
        attention_rollout(torch.rand(2, 6, 6))


def test_entropy_of_known_distributions():
    uniform = torch.full((3, 8), 1 / 8)
    torch.testing.assert_close(attention_entropy(uniform), torch.full((3,), math.log(8)))
    one_hot = torch.eye(8)
    torch.testing.assert_close(attention_entropy(one_hot), torch.zeros(8))
    causal_uniform = torch.tril(torch.ones(5, 5)) / torch.arange(1, 6).unsqueeze(1)
    normalized = attention_entropy(causal_uniform, normalize=True)
    torch.testing.assert_close(normalized[1:], torch.ones(4))
    assert normalized[0] == 0


def test_head_entropy_skips_padded_queries():
    attentions = _random_attentions(n_layers=2, b=2, h=3, t=5)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]])
    result = head_entropy(attentions, attention_mask=mask)
    assert result.shape == (2, 3)
    per_query = torch.stack([attention_entropy(w) for w in attentions])  # (l b h t)
    real = torch.cat([per_query[:, 0], per_query[:, 1, :, :2]], dim=-1)  # (l h 7 real queries)
    torch.testing.assert_close(result, real.mean(-1))
    torch.testing.assert_close(head_entropy(attentions), per_query.mean(dim=(1, 3)))
