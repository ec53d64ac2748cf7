"""The preallocated KV cache changes only the work: same greedy ids, same logits (atol 1e-5) as
no cache, for plain GPT, left-padded batches, and every component that reads the cache."""

from __future__ import annotations

from functools import partial

import pytest
import torch

from minitransformers import GPTConfig, GPTLMHeadModel, new_cache
from minitransformers.components import SlidingWindowAttention, grouped_query
from minitransformers.generation import generate

VARIANTS = {
    "gpt": {},
    "gpt-sdpa": {"attn_impl": "sdpa"},
    "grouped-query": {"attention": grouped_query(2), "fused_qkv": False},
    "multi-query": {"attention": "multi_query", "fused_qkv": False},
    "sliding-window": {"attention": partial(SlidingWindowAttention, window=3)},
    "rotary": {"positional": "rotary"},
    "alibi": {"positional": "alibi"},
}


def _model(**overrides) -> GPTLMHeadModel:
    torch.manual_seed(0)
    # A large init gives peaked distributions: greedy picks are not decided by float noise.
    settings = {"vocab_size": 60, "hidden_size": 32, "n_heads": 4, "max_positions": 40,
                "initializer_range": 0.2, "hidden_dropout": 0.0, "attention_dropout": 0.0}
    return GPTLMHeadModel(GPTConfig.preset("tiny", **{**settings, **overrides})).eval()


def _step_logits(model, ids, attention_mask=None, **options):
    """Greedy ids and the last-position logits of every step (a hook on the LM head)."""
    seen = []
    handle = model.lm_head.register_forward_hook(lambda m, i, out: seen.append(out[:, -1].clone()))
    try:
        out = generate(model, ids, max_new_tokens=12, attention_mask=attention_mask, **options)
    finally:
        handle.remove()
    return out, torch.stack(seen)


def _assert_cache_changes_nothing(model, ids, mask=None):
    """Greedy ids identical and step logits within 1e-5, with the cache and without it."""
    cached, cached_logits = _step_logits(model, ids, mask)
    uncached, uncached_logits = _step_logits(model, ids, mask, use_cache=False)
    assert torch.equal(cached, uncached)
    torch.testing.assert_close(cached_logits, uncached_logits, atol=1e-5, rtol=0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_cached_greedy_ids_and_logits_equal_no_cache(variant):
    model = _model(**VARIANTS[variant])
    ids = torch.randint(0, 60, (2, 7), generator=torch.Generator().manual_seed(3))
    _assert_cache_changes_nothing(model, ids)


@pytest.mark.parametrize("variant", VARIANTS)
def test_left_padded_batch_with_the_cache_equals_no_cache(variant):
    model = _model(**VARIANTS[variant])
    ids = torch.randint(0, 60, (3, 8), generator=torch.Generator().manual_seed(4))
    mask = torch.ones_like(ids)
    mask[0, :5], mask[1, :2] = 0, 0  # rows of 3, 6 and 8 real tokens, padded on the left
    _assert_cache_changes_nothing(model, ids, mask)


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_fixed_capacity_cache_fed_in_pieces_equals_one_full_pass(variant):
    model = _model(**VARIANTS[variant])
    ids = torch.randint(0, 60, (2, 16), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        full = model(ids).logits
        cache = new_cache(model.config.n_layers, capacity=16)
        pieces = [model(ids[:, a:b], cache=cache).logits for a, b in [(0, 6), (6, 7), (7, 12), (12, 16)]]
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=0)
    assert all(len(layer) == 16 and layer.capacity == 16 for layer in cache)
