"""A GPT built with Llama's parts loads Llama checkpoints that `transformers` wrote, and gives its numbers.

Llama is GPT with six parts swapped (``LLAMA_SWAPS``). The checkpoints here
are random small ones with grouped-query attention (fewer key/value heads
than query heads). A wrong rotary pairing, an unshared key/value head, a
LayerNorm where RMSNorm belongs or a tied head where it is untied each
break these comparisons by far more than the tolerance.
"""

from __future__ import annotations

import json

import pytest
import torch
import transformers

from minitransformers import LLAMA_SWAPS, GPTConfig, GPTLMHeadModel, GPTModel
from minitransformers.pretrained import CheckpointError

ATOL = 1e-4

CONFIGS = {
    # 4 query heads share 2 key/value heads; untied head, no biases: Llama 2/3 as shipped.
    "gqa-2x4-2": dict(vocab_size=97, hidden_size=32, intermediate_size=44, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64),
    # One key/value head for six query heads, a tied head, biases everywhere, Llama 3's rotary base.
    "mqa-tied-biased": dict(vocab_size=61, hidden_size=48, intermediate_size=40, num_hidden_layers=3,
                            num_attention_heads=6, num_key_value_heads=1, max_position_embeddings=48,
                            tie_word_embeddings=True, attention_bias=True, mlp_bias=True, rms_norm_eps=1e-5,
                            rope_parameters={"rope_type": "default", "rope_theta": 500000.0}),
}


def hf_llama(name: str, seed: int = 0, **changes) -> transformers.LlamaForCausalLM:
    """A transformers Llama with large random weights (norms included), in eval mode, eager attention."""
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(**{**CONFIGS[name], **changes}, bos_token_id=1, eos_token_id=None,
                                      pad_token_id=None, attn_implementation="eager")
    model = transformers.LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():  # norm scales near 1, everything else around 0
            parameter.normal_(1.0 if "norm.weight" in name else 0.0, 0.5 if "norm.weight" in name else 0.2)
    return model


def padded_batch(vocab_size: int, left: bool, seed: int = 1):
    """ids (3, 10) padded right or left, the mask, and position ids that skip the padding."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab_size, (3, 10), generator=generator)
    mask = torch.ones(3, 10, dtype=torch.long)
    for row, length in enumerate([10, 6, 2]):
        if left:
            mask[row, : 10 - length] = 0
        else:
            mask[row, length:] = 0
    return ids, mask, (mask.cumsum(dim=1) - 1).clamp(min=0)


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
        reference = hf_llama(name)
        directory = tmp_path_factory.mktemp(name)
        reference.save_pretrained(directory)
        found[name] = reference, directory
    return found


@pytest.mark.parametrize("left", [False, True], ids=["right-padded", "left-padded"])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_llama_checkpoint_matches_transformers(checkpoints, name, left):
    reference, directory = checkpoints[name]
    model = GPTLMHeadModel.from_pretrained(directory)
    assert not model.loading_report.problems
    config = model.config
    assert {key: getattr(config, key) for key in LLAMA_SWAPS if key not in ("bias", "tied_head")} == {
        key: value for key, value in LLAMA_SWAPS.items() if key not in ("bias", "tied_head")}
    assert config.bias == CONFIGS[name].get("attention_bias", False)
    assert (model.lm_head.weight is model.gpt.token_embeddings.weight) == config.tied_head
    attention = model.gpt.blocks[0].attention
    assert attention.n_kv_heads == CONFIGS[name]["num_key_value_heads"] < attention.n_heads
    ids, mask, positions = padded_batch(CONFIGS[name]["vocab_size"], left)
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask, position_ids=positions, output_attentions=True,
                        output_hidden_states=True)
        out = model(ids, attention_mask=mask, position_ids=positions, output_attentions=True,
                    output_hidden_states=True)
    assert ref.logits.abs().max() > 1.0  # the comparison below is not between near-zero numbers
    assert max_difference(out.logits, ref.logits, mask) < ATOL
    assert max_difference(out.hidden_states[-1], ref.hidden_states[-1], mask) < ATOL
    assert len(out.attentions) == len(ref.attentions)
    for ours, theirs in zip(out.attentions, ref.attentions):  # (b h t s) -> (b t h s): index by query
        assert max_difference(ours.transpose(1, 2), theirs.transpose(1, 2), mask) < ATOL


def test_the_fused_attention_path_gives_the_same_numbers(checkpoints):
    reference, directory = checkpoints["gqa-2x4-2"]
    model = GPTLMHeadModel.from_pretrained(directory, attn_impl="sdpa")
    ids, mask, positions = padded_batch(CONFIGS["gqa-2x4-2"]["vocab_size"], left=True)
    with torch.no_grad():
        expected = reference(ids, attention_mask=mask, position_ids=positions).logits
        found = model(ids, attention_mask=mask, position_ids=positions).logits
    assert max_difference(found, expected, mask) < ATOL


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_greedy_generation_with_the_kv_cache_matches_transformers(checkpoints, name):
    reference, directory = checkpoints[name]
    model = GPTLMHeadModel.from_pretrained(directory)
    ids = torch.randint(0, CONFIGS[name]["vocab_size"], (2, 6), generator=torch.Generator().manual_seed(2))
    mask = torch.ones_like(ids)
    mask[1, :3] = 0  # the second prompt has three tokens, left-padded
    expected = reference.generate(ids, attention_mask=mask, max_new_tokens=12, do_sample=False)
    ours = model.generate(ids, attention_mask=mask, max_new_tokens=12)  # greedy, with the KV cache
    assert torch.equal(ours, expected), (ours, expected)
    one = reference.generate(ids[:1], max_new_tokens=12, do_sample=False)
    assert torch.equal(model.generate(ids[:1], max_new_tokens=12), one)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_saved_llama_loads_in_transformers_with_the_same_logits(checkpoints, name, tmp_path):
    reference, directory = checkpoints[name]
    GPTLMHeadModel.from_pretrained(directory).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "llama" and config["architectures"] == ["LlamaForCausalLM"]
    assert config["num_key_value_heads"] == CONFIGS[name]["num_key_value_heads"]
    again = transformers.LlamaForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
    ids, mask, positions = padded_batch(CONFIGS[name]["vocab_size"], left=False)
    with torch.no_grad():
        expected = reference(ids, attention_mask=mask, position_ids=positions).logits
        found = again(ids, attention_mask=mask, position_ids=positions).logits
    assert max_difference(found, expected, mask) < ATOL
    for key, tensor in reference.state_dict().items():  # rotary rows reordered there and back: exact
        assert torch.equal(again.state_dict()[key], tensor), key


def test_a_gpt_built_with_the_six_swaps_saves_as_a_llama(tmp_path):
    torch.manual_seed(0)
    config = GPTConfig.preset("tiny", vocab_size=80, n_heads=4, **LLAMA_SWAPS, hidden_dropout=0.0,
                              attention_dropout=0.0, extra={"attention_kwargs": {"n_kv_heads": 2},
                                                            "positional_kwargs": {"base": 1000.0}})
    model = GPTLMHeadModel(config).eval()
    assert not any(name.endswith(".bias") for name, _ in model.named_parameters())
    model.save_pretrained(tmp_path)
    theirs = transformers.LlamaForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
    assert theirs.config.rope_parameters["rope_theta"] == 1000.0 and theirs.config.num_key_value_heads == 2
    ids = torch.randint(0, 80, (2, 9))
    with torch.no_grad():
        difference = (model(ids).logits - theirs(ids).logits).abs().max().item()
    assert difference < ATOL
    body = GPTModel.from_pretrained(tmp_path)  # the body alone drops the untied head
    assert body.loading_report.dropped == ["lm_head.weight"]


def test_a_gpt_with_a_part_llama_lacks_is_not_saved_as_one(tmp_path):
    model = GPTLMHeadModel(GPTConfig.preset("tiny", **{**LLAMA_SWAPS, "positional": "alibi"}))
    with pytest.raises(CheckpointError, match=r"Llama format: \{'positional': 'alibi'\}"):
        model.save_pretrained(tmp_path)
    assert not (tmp_path / "config.json").exists()


def edited_checkpoint(checkpoints, tmp_path, remove=(), **changes):
    """The first checkpoint, copied, with ``changes`` written into its config.json and ``remove`` taken out."""
    _, directory = checkpoints["gqa-2x4-2"]
    config = {**json.loads((directory / "config.json").read_text()), **changes}
    for key in remove:
        del config[key]
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors").write_bytes((directory / "model.safetensors").read_bytes())
    return tmp_path


@pytest.mark.parametrize("changes, words", [
    ({"rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0}},
     r"rope_parameters.rope_type='llama3'.*not implemented"),
    ({"rope_parameters": {"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0}},
     r"rope_parameters.rope_type='linear'"),
    ({"rope_scaling": {"type": "dynamic", "factor": 2.0}}, r"rope_scaling=.*dynamic"),
    ({"sliding_window": 16}, r"sliding_window=16.*sliding-window attention"),
    ({"layer_types": ["sliding_attention", "full_attention"]}, r"layer_types="),
    ({"attention_bias": True}, r"attention_bias=True.*mlp_bias=False"),
    ({"mlp_bias": True}, r"attention_bias=False.*mlp_bias=True"),
    ({"head_dim": 16}, r"head_dim=16.*supported: head_dim=8"),
    ({"hidden_act": "gelu"}, r"hidden_act='gelu'.*SiLU"),
    ({"num_key_value_heads": 3}, r"num_key_value_heads=3.*a divisor of num_attention_heads=4"),
    ({"eos_token_id": [2, 5]}, r"eos_token_id=\[2, 5\]"),
])
def test_llama_features_we_lack_are_refused_by_name(checkpoints, tmp_path, changes, words):
    with pytest.raises(CheckpointError, match=words):
        GPTLMHeadModel.from_pretrained(edited_checkpoint(checkpoints, tmp_path, **changes))


def test_old_llama_config_keys_still_load(checkpoints, tmp_path):
    """Files from transformers 4 say rope_theta and rope_scaling=null instead of rope_parameters."""
    directory = edited_checkpoint(checkpoints, tmp_path, remove=("rope_parameters", "head_dim"),
                                  rope_theta=20000.0, rope_scaling=None)
    config = GPTLMHeadModel.from_pretrained(directory).config
    assert config.extra == {"attention_kwargs": {"n_kv_heads": 2}, "positional_kwargs": {"base": 20000.0}}


def test_a_llama_is_refused_by_bert_classes_naming_what_they_read(checkpoints):
    from minitransformers import BertModel

    with pytest.raises(CheckpointError, match=r"'llama' model, but a BERT model reads model_type='bert' or "
                                              r"'modernbert'"):
        BertModel.from_pretrained(checkpoints["gqa-2x4-2"][1])
