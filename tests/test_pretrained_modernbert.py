"""A BERT built with ModernBERT's parts loads ModernBERT checkpoints that `transformers` wrote, with its numbers.

ModernBERT is BERT with parts swapped (``MODERNBERT_SWAPS``) and a stack of
global and local blocks. The checkpoints are random small ones, read by
texts longer than the local window and padded on the right: a window one
token too wide or narrow, the wrong rotary base for local layers, GeGLU's
halves swapped or a norm in block 0 each break the comparisons.
"""

from __future__ import annotations

import json

import pytest
import torch
import transformers

from minitransformers import MODERNBERT_SWAPS, BertConfig, BertForMaskedLM, BertForPreTraining, BertModel
from minitransformers.pretrained import CheckpointError

ATOL = 1e-4

CONFIGS = {
    # ModernBERT-base's pattern: layers 0 and 3 global; each local token sees 2 neighbours each way.
    "every-3rd-global": dict(vocab_size=90, hidden_size=32, intermediate_size=40, num_hidden_layers=4,
                             num_attention_heads=4, max_position_embeddings=64, local_attention=4),
    # Every other layer global, biases everywhere, the tanh GELU, other rotary bases, an odd window.
    "every-2nd-biased": dict(vocab_size=70, hidden_size=48, intermediate_size=36, num_hidden_layers=3,
                             num_attention_heads=6, max_position_embeddings=32, local_attention=7,
                             layer_types=["full_attention", "sliding_attention", "full_attention"],
                             attention_bias=True, mlp_bias=True, norm_bias=True, classifier_bias=True,
                             hidden_activation="gelu_pytorch_tanh", classifier_activation="gelu_pytorch_tanh",
                             norm_eps=1e-6, rope_parameters={
                                 "full_attention": {"rope_type": "default", "rope_theta": 80000.0},
                                 "sliding_attention": {"rope_type": "default", "rope_theta": 500.0}}),
}


def hf_modernbert(name: str, seed: int = 0) -> transformers.ModernBertForMaskedLM:
    """A transformers ModernBERT with large random weights (norms included), eval mode, eager attention."""
    torch.manual_seed(seed)
    config = transformers.ModernBertConfig(**CONFIGS[name], pad_token_id=0, bos_token_id=1, eos_token_id=2,
                                           cls_token_id=1, sep_token_id=2, attn_implementation="eager")
    model = transformers.ModernBertForMaskedLM(config).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():  # norm scales near 1, everything else around 0
            parameter.normal_(1.0 if "norm.weight" in name else 0.0, 0.5 if "norm.weight" in name else 0.2)
    return model


def padded_batch(vocab_size: int, seed: int = 1):
    """ids (3, 12), right-padded to lengths 12, 7 and 3, and the attention mask."""
    ids = torch.randint(3, vocab_size, (3, 12), generator=torch.Generator().manual_seed(seed))
    mask = torch.ones(3, 12, dtype=torch.long)
    for row, length in enumerate([12, 7, 3]):
        mask[row, length:] = 0
        ids[row, length:] = 0  # the pad id
    return ids, mask


def max_difference(ours: torch.Tensor, theirs: torch.Tensor, mask: torch.Tensor) -> float:
    """The largest absolute difference at real (unpadded) positions, after checking the shapes agree."""
    assert ours.shape == theirs.shape
    real = mask.bool()
    return (ours[real] - theirs[real]).abs().max().item()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """name -> (transformers model, the directory it saved itself to)."""
    found = {}
    for name in CONFIGS:
        reference = hf_modernbert(name)
        directory = tmp_path_factory.mktemp(name)
        reference.save_pretrained(directory)
        found[name] = reference, directory
    return found


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_modernbert_checkpoint_matches_transformers(checkpoints, name):
    reference, directory = checkpoints[name]
    model = BertForMaskedLM.from_pretrained(directory)
    assert not model.loading_report.problems
    config = model.config
    assert {key: getattr(config, key) for key in MODERNBERT_SWAPS if key != "bias"} == {
        key: value for key, value in MODERNBERT_SWAPS.items() if key != "bias"}
    every = 3 if name == "every-3rd-global" else 2
    assert config.global_every == every
    kinds = [type(block.attention).__name__ for block in model.bert.blocks]
    assert kinds == ["MultiHeadAttention" if i % every == 0 else "SlidingWindowAttention"
                     for i in range(config.n_layers)]
    ids, mask = padded_batch(CONFIGS[name]["vocab_size"])
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
        out = model(ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
    assert ref.logits.abs().max() > 1.0  # not a comparison of near-zero numbers
    assert max_difference(out.logits, ref.logits, mask) < ATOL
    assert len(out.attentions) == len(ref.attentions)
    for ours, theirs in zip(out.attentions, ref.attentions):  # (b h t s) -> (b t h s): index by query
        assert max_difference(ours.transpose(1, 2), theirs.transpose(1, 2), mask) < ATOL
    local = out.attentions[1][0, 0]  # block 1 is local: (t s) of the unpadded text
    reach = CONFIGS[name]["local_attention"] // 2
    far = (torch.arange(12)[:, None] - torch.arange(12)[None, :]).abs() > reach
    assert torch.all(local[far] == 0) and torch.all(local[~far] > 0)


def test_the_fused_attention_path_gives_the_same_numbers(checkpoints):
    reference, directory = checkpoints["every-3rd-global"]
    model = BertForMaskedLM.from_pretrained(directory, attn_impl="sdpa")
    ids, mask = padded_batch(CONFIGS["every-3rd-global"]["vocab_size"])
    with torch.no_grad():
        assert max_difference(model(ids, attention_mask=mask).logits, reference(ids, attention_mask=mask).logits,
                              mask) < ATOL


def test_the_body_alone_equals_modernbert_model(checkpoints):
    reference, directory = checkpoints["every-3rd-global"]
    with pytest.raises(CheckpointError, match="(?s)pooler.dense.weight.*strict=False"):
        BertModel.from_pretrained(directory)  # ModernBERT has no pooler, as a BERT MLM checkpoint has none
    body = BertModel.from_pretrained(directory, strict=False)
    assert body.loading_report.newly_initialised == ["pooler.dense.weight", "pooler.dense.bias"]
    assert set(body.loading_report.dropped) == {"decoder.bias", "head.dense.weight", "head.norm.weight"}
    ids, mask = padded_batch(CONFIGS["every-3rd-global"]["vocab_size"])
    with torch.no_grad():
        expected = reference.model(ids, attention_mask=mask).last_hidden_state
        found = body(ids, attention_mask=mask).last_hidden_state
    assert max_difference(found, expected, mask) < ATOL


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_saved_modernbert_loads_in_transformers_with_the_same_logits(checkpoints, name, tmp_path):
    reference, directory = checkpoints[name]
    BertForMaskedLM.from_pretrained(directory).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "modernbert" and config["architectures"] == ["ModernBertForMaskedLM"]
    assert config["layer_types"] == reference.config.layer_types
    again = transformers.ModernBertForMaskedLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
    assert again.config.sliding_window == reference.config.sliding_window
    ids, mask = padded_batch(CONFIGS[name]["vocab_size"])
    with torch.no_grad():
        expected = reference(ids, attention_mask=mask).logits
        found = again(ids, attention_mask=mask).logits
    assert max_difference(found, expected, mask) < ATOL
    for key, tensor in reference.state_dict().items():  # fused matrices split and joined again: exact
        assert torch.equal(again.state_dict()[key], tensor), key


@pytest.mark.parametrize("every, types", [(2, ["full_attention", "sliding_attention"]), (None, ["full_attention"] * 2)])
def test_a_bert_built_with_the_swaps_saves_as_a_modernbert(tmp_path, every, types):
    torch.manual_seed(0)
    local = {"attention": "sliding_window", "extra": {"attention_kwargs": {"window": 3}}} if every else {}
    config = BertConfig.preset("tiny", vocab_size=60, n_heads=4, **MODERNBERT_SWAPS, hidden_dropout=0.0,
                               attention_dropout=0.0, global_every=every, local_layers=local)
    model = BertForMaskedLM(config).eval()
    assert not any(name.endswith(".bias") for name, _ in model.named_parameters() if "decoder" not in name)
    model.save_pretrained(tmp_path)
    theirs = transformers.ModernBertForMaskedLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
    assert theirs.config.layer_types == types
    if every:
        assert theirs.config.local_attention == 4  # 2 neighbours on each side: our window of 3 counts the token
    ids = torch.randint(0, 60, (2, 9))
    with torch.no_grad():
        difference = (model(ids).logits - theirs(ids).logits).abs().max().item()
    assert difference < ATOL


@pytest.mark.parametrize("config, words", [
    (dict(MODERNBERT_SWAPS, global_every=2, local_layers={"attention": "multi_query"}), r"local_layers"),
    (dict(MODERNBERT_SWAPS, type_vocab_size=2), r"type_vocab_size"),
])
def test_a_bert_with_parts_modernbert_lacks_is_not_saved_as_one(tmp_path, config, words):
    model = BertForMaskedLM(BertConfig.preset("tiny", **config))
    with pytest.raises(CheckpointError, match=words):
        model.save_pretrained(tmp_path)


def edited_checkpoint(checkpoints, tmp_path, **changes):
    """The first checkpoint, copied, with ``changes`` written into its config.json."""
    _, directory = checkpoints["every-3rd-global"]
    config = {**json.loads((directory / "config.json").read_text()), **changes}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors").write_bytes((directory / "model.safetensors").read_bytes())
    return tmp_path


@pytest.mark.parametrize("changes, words", [
    ({"layer_types": ["sliding_attention", "full_attention", "full_attention", "sliding_attention"]},
     r"layer_types=.*a global layer first"),
    ({"layer_types": ["full_attention", "sliding_attention", "full_attention", "full_attention"]},
     r"layer_types=.*then every n-th"),
    ({"rope_parameters": {"full_attention": {"rope_type": "yarn", "rope_theta": 1e5, "factor": 2.0},
                          "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}}},
     r"rope_parameters.full_attention.rope_type='yarn'"),
    ({"norm_bias": True}, r"norm_bias=True.*only some layers would have biases"),
    ({"decoder_bias": False}, r"decoder_bias=False"),
    ({"classifier_activation": "relu"}, r"classifier_activation='relu'"),
])
def test_modernbert_features_we_lack_are_refused_by_name(checkpoints, tmp_path, changes, words):
    with pytest.raises(CheckpointError, match=words):
        BertForMaskedLM.from_pretrained(edited_checkpoint(checkpoints, tmp_path, **changes))


def test_old_modernbert_config_keys_still_load(checkpoints, tmp_path):
    """Files from transformers 4 say global_attn_every_n_layers and global/local_rope_theta."""
    directory = edited_checkpoint(checkpoints, tmp_path, layer_types=None, rope_parameters=None,
                                  global_attn_every_n_layers=3, global_rope_theta=160000.0, local_rope_theta=10000.0)
    config = BertForMaskedLM.from_pretrained(directory).config
    assert config.global_every == 3 and config.extra == {"positional_kwargs": {"base": 160000.0}}
    assert config.local_layers["extra"]["positional_kwargs"] == {"base": 10000.0}


def test_heads_modernbert_has_not_are_refused(checkpoints):
    with pytest.raises(CheckpointError, match="nsp_head.*BertModel and BertForMaskedLM"):
        BertForPreTraining.from_pretrained(checkpoints["every-3rd-global"][1])
