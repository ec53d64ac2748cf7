"""The config fields that turn GPT into a Llama and BERT into a ModernBERT, one swap at a time."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from minitransformers import (
    LLAMA_SWAPS, MODERNBERT_SWAPS, BertConfig, BertForMaskedLM, BertModel, GPTConfig, GPTLMHeadModel, new_cache,
)
from minitransformers.blocks import PreLNEncoderBlock
from minitransformers.components import SlidingWindowAttention

SMALL = {"vocab_size": 50, "hidden_size": 32, "n_heads": 4, "max_positions": 32, "hidden_dropout": 0.0,
         "attention_dropout": 0.0}


def gpt(**changes) -> GPTLMHeadModel:
    torch.manual_seed(0)
    return GPTLMHeadModel(GPTConfig.preset("tiny", **{**SMALL, **changes})).eval()


def cache_matches_full(model: GPTLMHeadModel) -> bool:
    ids = torch.randint(0, 50, (2, 9), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = model(ids).logits
        cache = new_cache(model.config.n_layers)
        steps = [model(ids[:, :3], cache=cache).logits] + [model(ids[:, i:i + 1], cache=cache).logits
                                                             for i in range(3, 9)]
    return torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-4)


def test_each_llama_swap_changes_the_model_and_the_kv_cache_still_agrees():
    """The lesson's path: swap the parts in LLAMA_SWAPS' order; each step changes the outputs."""
    ids = torch.randint(0, 50, (1, 7))
    changes, previous = {}, gpt()(ids).logits
    for field, value in LLAMA_SWAPS.items():
        changes[field] = value
        if field == "attention":
            changes["extra"] = {"attention_kwargs": {"n_kv_heads": 2}}
        model = gpt(**changes)
        assert cache_matches_full(model), field
        logits = model(ids).logits
        assert not torch.allclose(logits, previous), f"swapping {field} changed nothing"
        previous = logits
    assert not any(name.endswith("bias") for name, _ in model.named_parameters())
    assert model.lm_head.weight is not model.gpt.token_embeddings.weight
    assert model.gpt.blocks[0].attention.key.weight.shape == (16, 32)  # 2 key/value heads of size 8


def test_bias_false_removes_every_bias_and_layernorm_shift():
    model = gpt(bias=False)
    assert not any(name.endswith("bias") for name, _ in model.named_parameters())
    assert model.gpt.final_norm.bias is None and model.gpt.blocks[0].attention.output.bias is None
    ids = torch.randint(0, 50, (2, 6))
    model.train()(ids, labels=ids).loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(TypeError, match="bias must be True or False"):
        GPTConfig.preset("tiny", bias="no")


def test_an_untied_head_has_its_own_initialised_matrix():
    model = gpt(tied_head=False)
    tied = gpt()
    assert model.lm_head.weight is not model.gpt.token_embeddings.weight
    assert model.num_parameters() == tied.num_parameters() + 50 * 32
    assert model.lm_head.weight.std().item() == pytest.approx(0.02, rel=0.15)


def test_positional_kwargs_reach_the_rotary_base():
    slow = gpt(positional="rotary", extra={"positional_kwargs": {"base": 500000.0}})
    speeds = slow.gpt.blocks[0].attention.relative_positions.speeds
    assert speeds[-1].item() == pytest.approx(500000.0 ** (-6 / 8))  # head size 8: pairs 0..3
    assert gpt(positional="rotary").gpt.blocks[0].attention.relative_positions.speeds[-1].item() == pytest.approx(
        10000.0 ** (-6 / 8))


def hybrid_bert(**changes) -> BertForMaskedLM:
    torch.manual_seed(0)
    local = {"attention": "sliding_window", "extra": {"attention_kwargs": {"window": 2},
                                                      "positional_kwargs": {"base": 100.0}}}
    config = BertConfig.preset("tiny", **{**SMALL, **MODERNBERT_SWAPS, "n_layers": 4, "global_every": 3,
                                          "local_layers": local, **changes})
    return BertForMaskedLM(config).eval()


def test_global_every_builds_local_blocks_between_the_global_ones():
    model = hybrid_bert(extra={"positional_kwargs": {"base": 1000.0}})
    blocks = model.bert.blocks
    assert [isinstance(block.attention, SlidingWindowAttention) for block in blocks] == [False, True, True, False]
    assert blocks[1].attention.window == 2
    bases = [block.attention.relative_positions.speeds[1].item() ** -4 for block in blocks]  # base^(-1/4)
    assert bases == pytest.approx([1000.0, 100.0, 100.0, 1000.0])
    weights = model(torch.randint(0, 50, (1, 6)), output_attentions=True).attentions
    band = (torch.arange(6)[:, None] - torch.arange(6)[None, :]).abs() < 2
    assert torch.all(weights[1][0][:, ~band] == 0) and torch.all(weights[0][0] > 0)


@pytest.mark.parametrize("changes, error, words", [
    ({"global_every": None}, ValueError, "global_every is None"),
    ({"local_layers": {"hidden_size": 16}}, ValueError, r"local_layers may change .*\['hidden_size'\]"),
    ({"local_layers": {"attention": "no_such_attention"}}, ValueError, "unknown attention 'no_such_attention'"),
    ({"global_every": 0}, ValueError, "global_every must be at least 1"),
])
def test_bad_layer_patterns_are_refused_when_the_config_is_made(changes, error, words):
    with pytest.raises(error, match=words):
        hybrid_bert(**changes)


def test_a_pre_ln_bert_normalises_once_at_the_end_and_has_no_segments():
    model = hybrid_bert()
    body = model.bert
    assert isinstance(body.blocks[0], PreLNEncoderBlock)
    assert isinstance(body.blocks[0].attention_norm, nn.Identity)  # the embedding norm just ran
    assert isinstance(body.blocks[1].attention_norm, nn.LayerNorm) and body.final_norm is not None
    assert body.embeddings.segment_embeddings is None
    ids = torch.randint(0, 50, (2, 5))
    out = model(ids, output_hidden_states=True)
    torch.testing.assert_close(out.hidden_states[-1], out.last_hidden_state)
    normalised = out.last_hidden_state
    torch.testing.assert_close(normalised.mean(-1), torch.zeros(2, 5), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="no segment embeddings"):
        model(ids, token_type_ids=torch.zeros_like(ids))


def test_the_standard_bert_keeps_its_parts():
    body = BertModel(BertConfig.preset("tiny"))
    assert body.final_norm is None and body.embeddings.segment_embeddings is not None
    assert "final_norm" not in repr(body)


def test_swapped_configs_survive_the_round_trip_through_a_dict():
    """Training checkpoints store configs with to_dict; the swaps and the layer pattern come back."""
    bert = hybrid_bert().config
    assert BertConfig.from_dict(bert.to_dict()) == bert
    llama = GPTConfig.preset("tiny", **LLAMA_SWAPS, extra={"attention_kwargs": {"n_kv_heads": 1}})
    assert GPTConfig.from_dict(llama.to_dict()) == llama
