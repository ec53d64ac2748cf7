"""The KV cache: it stores exactly the keys and values a full pass computes, and feeding a
sequence in pieces through it gives the same logits as feeding it at once."""

from __future__ import annotations

import itertools

import torch

from minitransformers import GPTConfig, GPTLMHeadModel, KVCache, new_cache


def _model() -> GPTLMHeadModel:
    torch.manual_seed(0)
    return GPTLMHeadModel(GPTConfig.preset("tiny", initializer_range=0.2)).eval()


def test_append_grows_along_the_key_axis():
    cache = KVCache()
    assert len(cache) == 0 and cache.size_in_bytes() == 0
    first = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5), torch.arange(4).expand(2, 4)
    keys, values, positions = cache.append(*first)
    assert keys.shape == (2, 3, 4, 5) and len(cache) == 4
    second = torch.randn(2, 3, 1, 5), torch.randn(2, 3, 1, 5), torch.full((2, 1), 4)
    keys, values, positions = cache.append(*second)
    assert keys.shape == (2, 3, 5, 5) and len(cache) == 5
    assert torch.equal(keys[:, :, 4:], second[0]) and torch.equal(values[:, :, :4], first[1])
    assert positions.tolist() == [[0, 1, 2, 3, 4]] * 2
    assert cache.size_in_bytes() == 2 * keys.numel() * 4


def test_reorder_keeps_the_chosen_rows():
    cache = KVCache()
    keys = torch.arange(3.0).reshape(3, 1, 1, 1)
    cache.append(keys, keys.clone(), torch.zeros(3, 1, dtype=torch.long))
    cache.reorder(torch.tensor([2, 0]))
    assert cache.keys.flatten().tolist() == [2.0, 0.0]


def test_cache_holds_the_keys_and_values_of_a_full_pass():
    model = _model()
    ids = torch.randint(0, 1000, (2, 9))
    attention = model.gpt.blocks[1].attention
    recorded = {}
    hooks = [attention.hook_k.register_forward_hook(lambda m, i, k: recorded.__setitem__("k", k)),
             attention.hook_v.register_forward_hook(lambda m, i, v: recorded.__setitem__("v", v))]
    with torch.no_grad():
        model(ids)  # no cache: these are the reference keys and values
        cache = new_cache(model.config.n_layers)
        model(ids, cache=cache)
    for hook in hooks:
        hook.remove()
    assert all(len(layer) == 9 for layer in cache)
    assert cache[1].keys.shape == (2, model.config.n_heads, 9, model.config.head_size)
    torch.testing.assert_close(cache[1].keys, recorded["k"], atol=1e-6, rtol=0)
    torch.testing.assert_close(cache[1].values, recorded["v"], atol=1e-6, rtol=0)
    assert cache[1].positions.tolist() == [list(range(9))] * 2


def test_feeding_in_pieces_through_the_cache_equals_one_full_pass():
    model = _model()
    ids = torch.randint(0, 1000, (2, 12))
    with torch.no_grad():
        full = model(ids).logits
        cache = new_cache(model.config.n_layers)
        pieces = [model(ids[:, start:stop], cache=cache).logits
                  for start, stop in [(0, 5), (5, 6), (6, 11), (11, 12)]]
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=0)
    assert len(cache[0]) == 12


def test_cache_memory_grows_linearly_with_the_context():
    model = _model()
    cache = new_cache(model.config.n_layers)
    sizes = []
    with torch.no_grad():
        model(torch.randint(0, 1000, (1, 4)), cache=cache)
        for _ in range(5):
            model(torch.randint(0, 1000, (1, 1)), cache=cache)
            sizes.append(sum(layer.size_in_bytes() for layer in cache))
    per_token = 2 * model.config.n_layers * model.config.hidden_size * 4  # k and v, float32
    assert [b - a for a, b in itertools.pairwise(sizes)] == [per_token] * 4
