"""The KV cache: it stores exactly the keys and values a full pass computes, and feeding a
sequence in pieces through it gives the same logits as feeding it at once."""

from __future__ import annotations

import itertools

import pytest
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


# ----- preallocated buffers ---------------------------------------------------------------------

def test_appending_writes_into_the_same_buffer_instead_of_copying_the_cache():
    cache = KVCache(capacity=8)
    keys = torch.randn(1, 2, 3, 4)
    cache.append(keys, keys.clone(), torch.arange(3)[None])
    address = cache.keys.data_ptr()
    for step in range(3, 8):
        new = torch.full((1, 2, 1, 4), float(step))
        out_keys, _, positions = cache.append(new, new.clone(), torch.tensor([[step]]))
        assert out_keys.data_ptr() == address  # a view of the one buffer: nothing was re-copied
    assert len(cache) == 8 and out_keys.shape == (1, 2, 8, 4)
    assert torch.equal(out_keys[:, :, :3], keys) and positions.tolist() == [list(range(8))]
    assert cache.allocated_bytes() >= cache.size_in_bytes() == 2 * 2 * 8 * 4 * 4


def test_a_cache_without_capacity_grows_and_keeps_what_it_held():
    cache = KVCache()
    chunks = [torch.randn(1, 1, n, 2) for n in (50, 30, 70)]
    start = 0
    for chunk in chunks:
        cache.append(chunk, -chunk, torch.arange(start, start + chunk.shape[2])[None])
        start += chunk.shape[2]
    torch.testing.assert_close(cache.keys, torch.cat(chunks, dim=2), rtol=0, atol=0)
    torch.testing.assert_close(cache.values, -torch.cat(chunks, dim=2), rtol=0, atol=0)
    assert cache.positions.tolist() == [list(range(150))]


def test_clear_empties_the_cache_for_reuse():
    cache = KVCache(capacity=4)
    cache.append(torch.ones(2, 1, 3, 2), torch.ones(2, 1, 3, 2), torch.zeros(2, 3, dtype=torch.long))
    cache.clear()
    assert len(cache) == 0 and cache.size_in_bytes() == 0
    keys, _, _ = cache.append(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.zeros(1, 2, dtype=torch.long))
    assert keys.shape == (1, 1, 2, 2)  # an emptied cache takes a new batch size


# ----- misuse: clear errors instead of failures deep in torch ------------------------------------

def test_a_cache_filled_at_batch_2_refuses_batch_1():
    model = _model()
    cache = new_cache(model.config.n_layers)
    with torch.no_grad():
        model(torch.randint(0, 1000, (2, 5)), cache=cache)
        with pytest.raises(ValueError, match=r"batch of 2 .* batch 1.*new_cache"):
            model(torch.randint(0, 1000, (1, 1)), cache=cache)


def test_a_cache_from_a_model_with_another_head_size_or_depth_is_refused():
    model = _model()
    cache = new_cache(model.config.n_layers)
    with torch.no_grad():
        model(torch.randint(0, 1000, (1, 5)), cache=cache)
        other = GPTLMHeadModel(GPTConfig.preset("tiny", n_heads=4)).eval()  # head size 16, not 32
        with pytest.raises(ValueError, match=r"cache\[0\] was filled by another model"):
            other(torch.randint(0, 1000, (1, 1)), cache=cache)
        deeper = GPTLMHeadModel(GPTConfig.preset("tiny", n_layers=3)).eval()
        with pytest.raises(ValueError, match=r"cache has 2 layers, the model has 3"):
            deeper(torch.randint(0, 1000, (1, 1)), cache=cache)


def test_overflowing_a_fixed_capacity_says_how_to_make_room():
    model = _model()
    cache = new_cache(model.config.n_layers, capacity=6)
    with torch.no_grad():
        model(torch.randint(0, 1000, (1, 5)), cache=cache)
        model(torch.randint(0, 1000, (1, 1)), cache=cache)
        with pytest.raises(ValueError, match=r"full: it holds at most 6 tokens, has 6 .* capacity="):
            model(torch.randint(0, 1000, (1, 1)), cache=cache)
    with pytest.raises(ValueError, match="capacity"):
        new_cache(2, capacity=0)
    with pytest.raises(ValueError, match="n_layers"):
        new_cache(0)


def test_mismatched_keys_values_or_positions_are_refused():
    cache = KVCache()
    with pytest.raises(ValueError, match="keys and values"):
        cache.append(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 5), torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="positions"):
        cache.append(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, dtype=torch.long))
    cache.append(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4), torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="float64"):
        cache.append(torch.zeros(1, 2, 1, 4, dtype=torch.float64), torch.zeros(1, 2, 1, 4, dtype=torch.float64),
                     torch.zeros(1, 1, dtype=torch.long))
