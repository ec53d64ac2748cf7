"""hooks(): reading and replacing named activations, and always cleaning up."""

import pytest
import torch

from minitransformers import BertConfig, BertForMaskedLM, GPTConfig, GPTLMHeadModel
from minitransformers.inspection import hooks, patch_from, zero_head

SMALL = dict(vocab_size=50, hidden_size=32, n_layers=2, n_heads=4, max_positions=32)


def _gpt(attn_impl="manual"):
    torch.manual_seed(0)
    return GPTLMHeadModel(GPTConfig(**SMALL, attn_impl=attn_impl)).eval()


def _bert(attn_impl="manual"):
    torch.manual_seed(0)
    return BertForMaskedLM(BertConfig(**SMALL, attn_impl=attn_impl)).eval()


def _body(model):
    return model.gpt if isinstance(model, GPTLMHeadModel) else model.bert


def _ids(seed=1, b=2, t=7):
    return torch.randint(
        1, SMALL["vocab_size"], (b, t), generator=torch.Generator().manual_seed(seed)
    )


def _no_hooks_left(model):
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


@pytest.mark.parametrize("make", [_gpt, _bert], ids=["gpt", "bert"])
@pytest.mark.parametrize("attn_impl", ["manual", "sdpa"])
@pytest.mark.parametrize("layer, head", [(0, 1), (1, 3)])
def test_zeroing_a_head_equals_zeroing_its_output_projection_columns(make, attn_impl, layer, head):
    model = make(attn_impl)
    ids = _ids()
    before = model(ids).logits
    with hooks(model, {f"blocks.{layer}.attention.hook_head_outputs": zero_head(head)}):
        hooked = model(ids).logits
    after = model(ids).logits

    # The independent computation: the output projection never sees that head's slice.
    reference = make("manual")
    projection = _body(reference).blocks[layer].attention.output
    d = SMALL["hidden_size"] // SMALL["n_heads"]
    with torch.no_grad():
        projection.weight[:, head * d : (head + 1) * d] = 0.0
    torch.testing.assert_close(hooked, reference(ids).logits)
    assert not torch.allclose(hooked, before)  # the head mattered, so the test can fail
    torch.testing.assert_close(after, before)  # and the hook is gone afterwards
    assert _no_hooks_left(model)


def test_a_hook_that_returns_none_only_reads():
    model = _gpt()
    ids = _ids()
    seen = {}

    def read(activation, name):
        seen[name] = activation.clone()

    expected = model(ids, output_attentions=True)
    with hooks(model, {"blocks.*.attention.hook_weights": read}):
        logits = model(ids).logits
    assert sorted(seen) == ["blocks.0.attention.hook_weights", "blocks.1.attention.hook_weights"]
    torch.testing.assert_close(logits, expected.logits)
    torch.testing.assert_close(seen["blocks.1.attention.hook_weights"], expected.attentions[1])


def test_patching_the_last_residual_stream_transplants_the_output():
    model = _gpt()
    clean, corrupted = _ids(seed=1), _ids(seed=2)
    clean_out, cache = model.run_with_cache(clean)
    last = f"blocks.{SMALL['n_layers'] - 1}.hook_resid_post"
    with hooks(model, {last: patch_from(cache)}):
        patched = model(corrupted).logits
    torch.testing.assert_close(patched, clean_out.logits)
    assert not torch.allclose(model(corrupted).logits, clean_out.logits)


def test_patching_some_positions_only():
    model = _gpt()
    clean, corrupted = _ids(seed=1), _ids(seed=2)
    _, clean_cache = model.run_with_cache(clean)
    with hooks(model, {"blocks.0.attention.hook_v": patch_from(clean_cache, positions=[0, 1])}):
        _, cache = model.run_with_cache(corrupted)
    _, corrupted_cache = model.run_with_cache(corrupted)
    v = cache["v", 0]
    torch.testing.assert_close(v[:, :, :2], clean_cache["v", 0][:, :, :2])
    torch.testing.assert_close(v[:, :, 2:], corrupted_cache["v", 0][:, :, 2:])


def test_hooks_on_weights_work_with_sdpa():
    """A hook on the weights sends an sdpa model down the hand-written path: the edit counts."""
    model = _gpt("sdpa")
    ids = _ids()

    def uniform(weights, name):
        causal = torch.ones_like(weights).tril()
        return causal / causal.sum(-1, keepdim=True)

    with hooks(model, {"blocks.0.attention.hook_weights": uniform}):
        edited = model(ids).logits
    assert not torch.allclose(edited, model(ids).logits)


def test_no_hook_remains_after_a_failing_forward():
    model = _bert()

    def explode(activation, name):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        with hooks(
            model, {"blocks.1.hook_resid_mid": explode, "hook_embeddings": lambda a, n: None}
        ):
            model(_ids())
    assert _no_hooks_left(model)
    with pytest.raises(ValueError, match="vocabulary"):
        with hooks(model, {"blocks.0.attention.hook_q": lambda a, n: a * 0}):
            model(torch.full((1, 3), 999))
    assert _no_hooks_left(model)


def test_wrong_replacement_shape_is_explained():
    model = _gpt()
    with pytest.raises(ValueError, match=r"expected a tensor of shape \(2, 4, 7, 8\)"):
        with hooks(model, {"blocks.0.attention.hook_head_outputs": lambda a, n: a[:, :2]}):
            model(_ids())
    assert _no_hooks_left(model)


def test_unknown_names_list_close_matches_and_register_nothing():
    model = _gpt()
    with pytest.raises(KeyError, match="blocks.0.attention.hook_weights"):
        with hooks(
            model, {"hook_embeddings": lambda a, n: None, "blocks.0.attention.hook_weight": print}
        ):
            pass
    assert _no_hooks_left(model)
    with pytest.raises(KeyError, match="no hook named"):
        with hooks(model, {"blocks.*.attention.nothing": print}):
            pass
    # Full module names are accepted as well as short ones.
    with hooks(model, {"gpt.blocks.0.attention.hook_head_outputs": zero_head(0)}):
        assert not _no_hooks_left(model)
    assert _no_hooks_left(model)
