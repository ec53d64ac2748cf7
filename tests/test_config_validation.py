"""Every config field is checked on construction and on load, with a message that names it (issue 20)."""

from __future__ import annotations

import json
import time

import pytest
import torch

from minitransformers import BertConfig, BertModel, GPTConfig, GPTLMHeadModel
from minitransformers.pretrained import CheckpointError
from minitransformers.pretrained.config_mapping import bert_config_from_hf, gpt_config_from_hf

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("field, value, error, message", [
    ("hidden_size", 64.0, TypeError, r"hidden_size must be an integer, got float 64.0 \(write 64\)"),
    ("n_layers", True, TypeError, "n_layers must be an integer, got bool"),
    ("vocab_size", "1000", TypeError, "vocab_size must be an integer, got str"),
    ("max_positions", 0, ValueError, "max_positions must be at least 1"),
    ("intermediate_size", -4, ValueError, "intermediate_size must be at least 1"),
    ("layer_norm_eps", "1e-5", TypeError, r"layer_norm_eps must be a number, got str '1e-5' \(write the number"),
    ("layer_norm_eps", float("nan"), ValueError, "layer_norm_eps must be a finite number"),
    ("layer_norm_eps", float("inf"), ValueError, "layer_norm_eps must be a finite number"),
    ("layer_norm_eps", 0.0, ValueError, r"layer_norm_eps must be in \(0.0, inf\)"),
    ("hidden_dropout", 1.0, ValueError, r"hidden_dropout must be in \[0.0, 1.0\)"),
    ("attention_dropout", -0.1, ValueError, "attention_dropout must be in"),
    ("initializer_range", float("nan"), ValueError, "initializer_range must be a finite number"),
    ("pad_token_id", 0.5, TypeError, "pad_token_id must be an integer"),
    ("pad_token_id", 1000, ValueError, r"pad_token_id=1000 is outside the vocabulary: ids go from 0 to 999"),
    ("bos_token_id", -3, ValueError, "bos_token_id must be at least 0"),
    ("eos_token_id", 500, ValueError, "eos_token_id=500 is outside the vocabulary"),
    ("fused_qkv", 1, TypeError, "fused_qkv must be True or False"),
    ("norm", 3, TypeError, "norm must be a registered name or a class"),
    ("extra", [], TypeError, "extra must be a dict"),
])
def test_gpt_config_fields_are_validated(field, value, error, message):
    overrides = {"vocab_size": 1000}
    if field == "eos_token_id":
        overrides["vocab_size"] = 97
    with pytest.raises(error, match=message):
        GPTConfig.preset("tiny", **{**overrides, field: value})


@pytest.mark.parametrize("field, value, error, message", [
    ("type_vocab_size", 2.0, TypeError, "type_vocab_size must be an integer"),
    ("num_labels", 2.5, TypeError, "num_labels must be an integer"),
    ("num_labels", 0, ValueError, "num_labels must be at least 1"),
    ("classifier_dropout", 1.5, ValueError, "classifier_dropout must be in"),
])
def test_bert_config_fields_are_validated(field, value, error, message):
    with pytest.raises(error, match=message):
        BertConfig.preset("tiny", **{field: value})


@pytest.mark.parametrize("overrides", [
    {"vocab_size": 10**12}, {"hidden_size": 2**20, "n_heads": 16}, {"n_layers": 10**6},
])
def test_absurd_sizes_are_refused_before_any_allocation(overrides):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"about .* parameters .* If you mean it, raise the limit first: "
                                         r"GPTConfig.MAX_PARAMETERS"):
        GPTLMHeadModel(GPTConfig.preset("tiny", **overrides))
    assert time.perf_counter() - start < 5  # refused, not allocated


def test_the_size_limit_can_be_raised(monkeypatch):
    monkeypatch.setattr(GPTConfig, "MAX_PARAMETERS", 10**13)
    assert GPTConfig.preset("tiny", vocab_size=10**10).vocab_size == 10**10  # a config only: nothing built


@pytest.mark.parametrize("key, value, field", [
    ("layer_norm_epsilon", float("nan"), "layer_norm_eps"),
    ("layer_norm_epsilon", "1e-5", r"layer_norm_eps must be a number, got str '1e-5'.*'layer_norm_epsilon'"),
    ("n_embd", 64.0, "hidden_size"),
    ("eos_token_id", 500, "eos_token_id"),
    ("bos_token_id", -3, "bos_token_id"),
    ("n_layer", 10**6, "parameters"),
])
def test_gpt_config_json_values_are_validated_on_load(key, value, field):
    hf = json.loads((ROOT / "weights" / "char-gpt-shakespeare" / "config.json").read_text())
    hf[key] = value
    with pytest.raises(CheckpointError, match=field):
        gpt_config_from_hf(hf)


@pytest.mark.parametrize("key, value, field", [
    ("type_vocab_size", 2.0, "type_vocab_size"),
    ("pad_token_id", 0.5, "pad_token_id"),
    ("vocab_size", 10**12, "parameters"),
])
def test_bert_config_json_values_are_validated_on_load(key, value, field):
    hf = json.loads((ROOT / "weights" / "mini-bert-shakespeare" / "config.json").read_text())
    hf[key] = value
    with pytest.raises(CheckpointError, match=field):
        bert_config_from_hf(hf)


@pytest.mark.parametrize("name, model_class", [
    ("char-gpt-shakespeare", GPTLMHeadModel), ("mini-gpt-shakespeare", GPTLMHeadModel),
    ("mini-bert-shakespeare", BertModel),
])
def test_configs_and_weights_written_by_earlier_versions_still_load(name, model_class):
    model = model_class.from_pretrained(ROOT / "weights" / name)
    assert model.num_parameters() > 0


def test_a_state_dict_with_the_old_position_table_name_loads():
    torch.manual_seed(0)
    model = GPTLMHeadModel(GPTConfig.preset("tiny"))
    old = {name.replace("positional.weight", "positional.embedding.weight"): t
           for name, t in model.state_dict().items()}
    assert "gpt.positional.embedding.weight" in old
    fresh = GPTLMHeadModel(GPTConfig.preset("tiny"))
    fresh.load_state_dict(old)  # strict
    torch.testing.assert_close(fresh.gpt.positional.weight, model.gpt.positional.weight)


# --- position_ids ------------------------------------------------------------------------------

@pytest.mark.parametrize("position_ids, error, message", [
    (torch.tensor([[0, 1, -1, 3]]), ValueError, "position_ids contains -1; positions count from 0"),
    (torch.tensor([[0, 1, 2, 128]]), ValueError, r"position_ids contains 128, but the model has positions 0..127"),
    (torch.tensor([[0, 1, 2]]), ValueError, r"position_ids has shape \(1, 3\), expected \(2, 4\)"),
    (torch.tensor([0, 1, 2, 3]), ValueError, "position_ids has shape"),
    (torch.tensor([[0.0, 1.0, 2.0, 3.0]]), TypeError, "position_ids must hold integer positions"),
    ([[0, 1, 2, 3]], TypeError, "position_ids must be a torch.Tensor"),
])
@pytest.mark.parametrize("model_class", ["gpt", "bert"])
def test_bad_position_ids_give_a_clear_error(position_ids, error, message, model_class):
    model = (GPTLMHeadModel(GPTConfig.preset("tiny")) if model_class == "gpt"
             else BertModel(BertConfig.preset("tiny")))
    with pytest.raises(error, match=message):
        model(torch.randint(0, 1000, (2, 4)), position_ids=position_ids)


def test_shared_position_ids_row_is_accepted():
    torch.manual_seed(0)
    model = GPTLMHeadModel(GPTConfig.preset("tiny")).eval()
    ids = torch.randint(0, 1000, (2, 4))
    torch.testing.assert_close(model(ids, position_ids=torch.arange(4)[None]).logits, model(ids).logits)
