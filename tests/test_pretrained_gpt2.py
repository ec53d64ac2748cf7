"""Our GPT classes, loaded from GPT-2 checkpoints that `transformers` wrote, give transformers' numbers.

GPT-2 stores its matrices transposed (Conv1D, ``(in, out)``); a missing
transpose, a wrong q/k/v split or the exact GELU in place of the tanh one
each break these comparisons by far more than the tolerance.
"""

from __future__ import annotations

import pytest
import torch
import transformers
from safetensors.torch import load_file, save_file

from minitransformers import GPTLMHeadModel, GPTModel
from minitransformers.pretrained import CheckpointMismatchError

ATOL = 1e-5

CONFIGS = {
    "gelu_new-2x4": {"vocab_size": 101, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 48},
    "relu-3x6": {"vocab_size": 77, "n_embd": 48, "n_layer": 3, "n_head": 6, "n_positions": 40, "n_inner": 100,
                     "activation_function": "relu", "layer_norm_epsilon": 1e-6},
    "gelu-1x2": {"vocab_size": 64, "n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 32,
                     "activation_function": "gelu"},
}


def hf_model(hf_class, name: str, seed: int = 0):
    """A transformers GPT-2 with large random weights, in eval mode, eager attention."""
    torch.manual_seed(seed)
    config = transformers.GPT2Config(**CONFIGS[name], bos_token_id=1, eos_token_id=2,
                                     attn_implementation="eager")
    model = hf_class(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.2)
    return model


def padded_batch(vocab_size: int, left: bool, seed: int = 1):
    """ids (3, 10) padded right or left, the mask, and the position ids that skip the padding."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab_size, (3, 10), generator=generator)
    mask = torch.ones(3, 10, dtype=torch.long)
    for row, length in enumerate([10, 6, 2]):
        if left:
            mask[row, : 10 - length] = 0
        else:
            mask[row, length:] = 0
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    return ids, mask, positions


def assert_close_at_real(ours, theirs, mask) -> None:
    real = mask.bool()
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours[real], theirs[real], atol=ATOL, rtol=0)


@pytest.mark.parametrize("left", [False, True], ids=["right-padded", "left-padded"])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_lm_checkpoint_matches_transformers(tmp_path, name, left):
    reference = hf_model(transformers.GPT2LMHeadModel, name)
    reference.save_pretrained(tmp_path)
    model = GPTLMHeadModel.from_pretrained(tmp_path)
    assert not model.loading_report.problems
    ids, mask, positions = padded_batch(CONFIGS[name]["vocab_size"], left)
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask, position_ids=positions,
                        output_hidden_states=True, output_attentions=True)
        out = model(ids, attention_mask=mask, position_ids=positions,
                    output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == len(ref.hidden_states)
    for ours, theirs in zip(out.hidden_states, ref.hidden_states):
        assert_close_at_real(ours, theirs, mask)
    for ours, theirs in zip(out.attentions, ref.attentions):  # (b h t s) -> (b t h s)
        assert_close_at_real(ours.transpose(1, 2), theirs.transpose(1, 2), mask)
    assert_close_at_real(out.logits, ref.logits, mask)


@pytest.mark.parametrize("attn_impl", ["manual", "sdpa"])
def test_lm_loss_matches_transformers_with_ignored_labels(tmp_path, attn_impl):
    """transformers shifts the labels inside its loss; so do we: same loss, same gradients."""
    reference = hf_model(transformers.GPT2LMHeadModel, "gelu_new-2x4", seed=5)
    reference.save_pretrained(tmp_path)
    model = GPTLMHeadModel.from_pretrained(tmp_path, attn_impl=attn_impl)
    ids = torch.randint(0, CONFIGS["gelu_new-2x4"]["vocab_size"], (3, 12), generator=torch.Generator().manual_seed(6))
    labels = ids.clone()
    labels[0, 4:7] = -100  # ignored targets (e.g. a prompt that should not be learned)
    labels[2, -1] = -100
    ours, theirs = model(ids, labels=labels).loss, reference(ids, labels=labels).loss
    torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=1e-5)
    ours.backward()
    theirs.backward()
    torch.testing.assert_close(model.gpt.token_embeddings.weight.grad, reference.transformer.wte.weight.grad,
                               atol=ATOL, rtol=1e-4)


@pytest.mark.parametrize("name", ["gelu_new-2x4", "relu-3x6"])
def test_greedy_generation_matches_transformers(tmp_path, name):
    reference = hf_model(transformers.GPT2LMHeadModel, name, seed=2)
    reference.save_pretrained(tmp_path)
    model = GPTLMHeadModel.from_pretrained(tmp_path)
    prompt = torch.randint(3, CONFIGS[name]["vocab_size"], (2, 5), generator=torch.Generator().manual_seed(3))
    expected = reference.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=20,
                                  do_sample=False, pad_token_id=0, eos_token_id=None)
    assert expected.shape == (2, 25)
    assert torch.equal(model.generate(prompt, max_new_tokens=20), expected)


def test_bare_gpt2_checkpoint_into_both_classes(tmp_path):
    reference = hf_model(transformers.GPT2Model, "gelu_new-2x4", seed=4)
    reference.save_pretrained(tmp_path)
    ids, mask, _positions = padded_batch(101, left=False, seed=5)
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask).last_hidden_state
        body = GPTModel.from_pretrained(tmp_path)
        assert_close_at_real(body(ids, attention_mask=mask).last_hidden_state, ref, mask)
        # The LM head is tied to the embeddings, so a bare checkpoint fills all of GPTLMHeadModel.
        lm = GPTLMHeadModel.from_pretrained(tmp_path)
        assert not lm.loading_report.problems
        assert_close_at_real(lm(ids, attention_mask=mask).logits, ref @ reference.wte.weight.T, mask)


def test_lm_checkpoint_into_bare_model(tmp_path):
    reference = hf_model(transformers.GPT2LMHeadModel, "gelu-1x2", seed=6)
    reference.save_pretrained(tmp_path)
    model = GPTModel.from_pretrained(tmp_path)
    ids, mask, _ = padded_batch(64, left=False, seed=7)
    with torch.no_grad():
        ref = reference.transformer(ids, attention_mask=mask).last_hidden_state
        assert_close_at_real(model(ids, attention_mask=mask).last_hidden_state, ref, mask)


def test_old_style_bin_checkpoint_with_buffers_and_lm_head_copy(tmp_path):
    """Like the original hub `gpt2` files: pickle format, `attn.bias` buffers, `lm_head.weight` saved."""
    reference = hf_model(transformers.GPT2LMHeadModel, "gelu_new-2x4", seed=8)
    reference.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    state = {key: tensor.clone() for key, tensor in reference.state_dict().items()}
    state["lm_head.weight"] = reference.lm_head.weight.clone()
    for i in range(2):
        state[f"transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(1, 1, 48, 48))
        state[f"transformer.h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    torch.save(state, tmp_path / "pytorch_model.bin")
    model = GPTLMHeadModel.from_pretrained(tmp_path)
    assert len(model.loading_report.ignored) == 5  # 4 buffers + the lm_head copy
    ids, mask, _ = padded_batch(101, left=False, seed=9)
    with torch.no_grad():
        assert_close_at_real(model(ids, attention_mask=mask).logits,
                             reference(ids, attention_mask=mask).logits, mask)


def test_untied_lm_head_is_refused(tmp_path):
    """Our LM head *is* the embedding matrix; a file whose head differs cannot be represented."""
    reference = hf_model(transformers.GPT2LMHeadModel, "gelu-1x2", seed=10)
    reference.save_pretrained(tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    state["lm_head.weight"] = torch.randn_like(state["transformer.wte.weight"])
    save_file(state, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointMismatchError, match="lm_head.weight .*ties"):
        GPTLMHeadModel.from_pretrained(tmp_path)
