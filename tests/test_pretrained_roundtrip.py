"""save_pretrained writes what transformers loads into its own classes, and back again."""

from __future__ import annotations

import json

import pytest
import torch
import transformers

from minitransformers import (
    BertConfig,
    BertForMaskedLM,
    BertForPreTraining,
    BertForSequenceClassification,
    BertModel,
    GPTConfig,
    GPTLMHeadModel,
    GPTModel,
)
from minitransformers.pretrained import CheckpointError

ATOL = 1e-5
BERT = BertConfig(vocab_size=70, hidden_size=24, n_layers=2, n_heads=3, intermediate_size=40,
                  max_positions=16, type_vocab_size=3, activation="gelu_tanh", num_labels=4)
GPT = GPTConfig(vocab_size=90, hidden_size=32, n_layers=2, n_heads=4, max_positions=24, activation="relu")


def randomised(model):
    """Large random weights, so every tensor's place matters; eval mode."""
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.2)
    return model.eval()


def inputs(vocab_size: int):
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1, vocab_size, (2, 8), generator=generator)
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3])
    segments = torch.tensor([[0] * 4 + [2] * 4, [0] * 3 + [1] * 5])
    return ids, mask, segments


def hf_load(hf_class, path):
    model, info = hf_class.from_pretrained(path, output_loading_info=True, attn_implementation="eager")
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    return model.eval()


BERT_PAIRS = [
    (BertModel, transformers.BertModel, "last_hidden_state", "last_hidden_state"),
    (BertForMaskedLM, transformers.BertForMaskedLM, "logits", "logits"),
    (BertForPreTraining, transformers.BertForPreTraining, "logits", "prediction_logits"),
    (BertForPreTraining, transformers.BertForPreTraining, "nsp_logits", "seq_relationship_logits"),
    (BertForSequenceClassification, transformers.BertForSequenceClassification, "logits", "logits"),
]


@pytest.mark.parametrize(("ours_class", "hf_class", "ours_field", "hf_field"), BERT_PAIRS,
                         ids=lambda x: getattr(x, "__name__", x))
def test_our_bert_loads_into_transformers(tmp_path, ours_class, hf_class, ours_field, hf_field):
    model = randomised(ours_class(BERT))
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["architectures"] == [hf_class.__name__] and config["model_type"] == "bert"
    reference = hf_load(hf_class, tmp_path)
    ids, mask, segments = inputs(BERT.vocab_size)
    with torch.no_grad():
        ours = getattr(model(ids, attention_mask=mask, token_type_ids=segments), ours_field)
        theirs = getattr(reference(ids, attention_mask=mask, token_type_ids=segments), hf_field)
    if ours.dim() == 3:  # per token: compare real positions only
        ours, theirs = ours[mask.bool()], theirs[mask.bool()]
    torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=0)


@pytest.mark.parametrize(("ours_class", "hf_class"), [(GPTModel, transformers.GPT2Model),
                                                      (GPTLMHeadModel, transformers.GPT2LMHeadModel)])
def test_our_gpt_loads_into_transformers(tmp_path, ours_class, hf_class):
    model = randomised(ours_class(GPT))
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["architectures"] == [hf_class.__name__] and config["model_type"] == "gpt2"
    reference = hf_load(hf_class, tmp_path)
    ids, mask, _ = inputs(GPT.vocab_size)
    field = "logits" if ours_class is GPTLMHeadModel else "last_hidden_state"
    with torch.no_grad():
        ours = getattr(model(ids, attention_mask=mask), field)
        theirs = getattr(reference(ids, attention_mask=mask), field)
    torch.testing.assert_close(ours[mask.bool()], theirs[mask.bool()], atol=ATOL, rtol=0)


def test_transformers_to_ours_to_transformers(tmp_path):
    """HF files -> our model -> our files -> HF model: every tensor comes back bit for bit."""
    torch.manual_seed(2)
    config = transformers.BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=20, max_position_embeddings=12)
    original = randomised(transformers.BertForPreTraining(config))
    original.save_pretrained(tmp_path / "hf")
    BertForPreTraining.from_pretrained(tmp_path / "hf").save_pretrained(tmp_path / "ours")
    back = hf_load(transformers.BertForPreTraining, tmp_path / "ours")
    for (name, a), (name_b, b) in zip(original.state_dict().items(), back.state_dict().items()):
        assert name == name_b and torch.equal(a, b), name

    gpt_config = transformers.GPT2Config(vocab_size=60, n_embd=16, n_layer=2, n_head=2, n_positions=12,
                                         bos_token_id=0, eos_token_id=0)  # GPT-2's 50256 is outside 60 ids
    gpt = randomised(transformers.GPT2LMHeadModel(gpt_config))
    gpt.save_pretrained(tmp_path / "hf-gpt")
    GPTLMHeadModel.from_pretrained(tmp_path / "hf-gpt").save_pretrained(tmp_path / "ours-gpt")
    gpt_back = hf_load(transformers.GPT2LMHeadModel, tmp_path / "ours-gpt")
    for (name, a), b in zip(gpt.state_dict().items(), gpt_back.state_dict().values()):
        assert torch.equal(a, b), name


def test_ours_to_ours_with_dtype(tmp_path):
    model = randomised(GPTLMHeadModel(GPT))
    model.save_pretrained(tmp_path)
    loaded = GPTLMHeadModel.from_pretrained(tmp_path, dtype=torch.float64, attn_impl="sdpa")
    assert loaded.config.attn_impl == "sdpa" and loaded.lm_head.weight.dtype == torch.float64
    assert loaded.lm_head.weight is loaded.gpt.token_embeddings.weight
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a.double(), b), name


def test_non_standard_components_cannot_be_saved(tmp_path):
    model = GPTModel(GPT.replace(positional="none"))
    with pytest.raises(CheckpointError, match=r"non-standard components \{'positional': 'none'\}"):
        model.save_pretrained(tmp_path)
    assert not (tmp_path / "config.json").exists()
