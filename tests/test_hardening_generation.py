"""Generation and the KV cache (issue 29, items 1-3): a cache list that holds no caches, a cache
filled by another model of the same shapes, and sampling at tiny temperatures in half precision."""

from __future__ import annotations

import gc

import pytest
import torch

from minitransformers import GPTConfig, GPTLMHeadModel, KVCache, new_cache
from minitransformers.generation import choose_next_token


def _model(seed: int = 0) -> GPTLMHeadModel:
    torch.manual_seed(seed)
    return GPTLMHeadModel(GPTConfig.preset("tiny", initializer_range=0.2)).eval()


IDS = torch.tensor([[5, 17, 42, 8, 99, 3]])


# ----- item 1: entries that are not caches -------------------------------------------------------

@pytest.mark.parametrize("cache", [[None, None], [KVCache(), "layer 1"], KVCache(), torch.zeros(2)],
                         ids=["nones", "a string", "one cache, not a list", "a tensor"])
def test_a_cache_that_holds_no_caches_is_a_type_error_naming_kvcache(cache):
    with pytest.raises(TypeError, match="KVCache.*new_cache"):
        _model()(IDS, cache=cache)


# ----- item 2: a cache knows which model filled it -----------------------------------------------

@torch.no_grad()
def test_a_cache_filled_by_another_model_of_the_same_shapes_is_refused():
    first, second = _model(0), _model(1)
    cache = new_cache(first.config.n_layers)
    first(IDS, cache=cache)
    with pytest.raises(ValueError, match=r"cache\[0\] was filled by another model"):
        second(IDS[:, :1], cache=cache)


@torch.no_grad()
def test_layers_given_in_the_wrong_order_are_refused():
    model = _model()
    cache = new_cache(model.config.n_layers)
    model(IDS, cache=cache)
    with pytest.raises(ValueError, match="another layer"):
        model(IDS[:, :1], cache=cache[::-1])


@torch.no_grad()
def test_a_cache_outliving_its_model_is_refused_by_the_next_one():
    # A new model may get the dead one's id(); the cache must still know it is not the same model.
    model = _model(0)
    cache = new_cache(model.config.n_layers)
    model(IDS, cache=cache)
    del model
    gc.collect()
    with pytest.raises(ValueError, match="another model"):
        _model(0)(IDS[:, :1], cache=cache)


@torch.no_grad()
@pytest.mark.parametrize("capacity", [None, IDS.shape[1]])
def test_the_model_that_filled_a_cache_goes_on_using_it_with_exact_logits(capacity):
    model, other = _model(0), _model(1)
    full = model(IDS).logits
    cache = new_cache(model.config.n_layers, capacity=capacity)
    pieces = [model(IDS[:, :4], cache=cache).logits, model(IDS[:, 4:5], cache=cache).logits,
              model(IDS[:, 5:], cache=cache).logits]
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=0)
    # Cleared, the cache may serve another model.
    for layer in cache:
        layer.clear()
    torch.testing.assert_close(other(IDS, cache=cache).logits, other(IDS).logits, atol=1e-5, rtol=0)


def test_generate_reuses_its_own_caches_call_after_call():
    model = _model()
    first = model.generate(IDS, max_new_tokens=5)
    assert torch.equal(model.generate(IDS, max_new_tokens=5), first)
    assert torch.equal(model.generate(IDS, max_new_tokens=5, use_cache=False), first)


# ----- item 3: the temperature is applied in float32 ---------------------------------------------

@torch.no_grad()
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("temperature", [1e-4, 1e-6])
def test_tiny_temperatures_sample_a_best_token_in_every_dtype(dtype, temperature):
    model = _model().to(dtype)
    logits = model(IDS.expand(3, -1)).logits[:, -1]  # (b, v) in the model's dtype
    chosen = choose_next_token(logits, temperature=temperature, generator=torch.Generator().manual_seed(0))
    best = logits.amax(dim=-1, keepdim=True)
    # Near zero temperature sampling is greedy: the chosen token has the best score (ties allowed).
    assert torch.equal(logits.gather(-1, chosen), best)
    generated = model.generate(IDS, max_new_tokens=4, temperature=temperature, seed=0)
    assert generated.shape == (1, IDS.shape[1] + 4)


def test_a_temperature_too_small_for_float32_still_picks_the_best_token():
    logits = torch.tensor([[3.0, 10.0, -2.0], [0.5, 0.25, 0.0]])
    assert choose_next_token(logits, temperature=1e-40).tolist() == [[1], [0]]
