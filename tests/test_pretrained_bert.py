"""Our BERT classes, loaded from checkpoints that `transformers` wrote, give transformers' numbers.

Each test builds a small random `transformers` model, gives it large random
weights (so that a wrong activation or a swapped matrix shows up far above
the tolerance), saves it with transformers' own `save_pretrained` and
compares both models on a batch with padding and two segments.
"""

from __future__ import annotations

import pytest
import torch
import transformers

from minitransformers import (
    BertForMaskedLM,
    BertForPreTraining,
    BertForSequenceClassification,
    BertModel,
)
from minitransformers.pretrained import CheckpointMismatchError

ATOL = 1e-5

CONFIGS = {
    "gelu-2x4": {"vocab_size": 99, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                     "intermediate_size": 37, "max_position_embeddings": 40, "type_vocab_size": 2},
    "gelu_new-3x3": {"vocab_size": 120, "hidden_size": 48, "num_hidden_layers": 3, "num_attention_heads": 3,
                         "intermediate_size": 64, "max_position_embeddings": 16, "type_vocab_size": 3,
                         "hidden_act": "gelu_new", "layer_norm_eps": 1e-7, "pad_token_id": 1},
    "relu-1x2": {"vocab_size": 64, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "intermediate_size": 24, "max_position_embeddings": 12, "type_vocab_size": 1,
                     "hidden_act": "relu"},
}


def hf_model(hf_class, name: str, seed: int = 0, **extra):
    """A transformers model with large random weights, in eval mode, eager attention."""
    torch.manual_seed(seed)
    config = transformers.BertConfig(**CONFIGS[name], **extra, attn_implementation="eager")
    model = hf_class(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.2)
    return model


def batch(config: dict, seed: int = 1):
    """Right-padded ids (3, 10), their mask, and segment ids (second half of each row = segment 1)."""
    generator = torch.Generator().manual_seed(seed)
    lengths = [10, 7, 3]
    ids = torch.randint(2, config["vocab_size"], (3, 10), generator=generator)
    mask = torch.zeros(3, 10, dtype=torch.long)
    segments = torch.zeros(3, 10, dtype=torch.long)
    for row, length in enumerate(lengths):
        mask[row, :length] = 1
        segments[row, length // 2:length] = config["type_vocab_size"] - 1
        ids[row, length:] = config.get("pad_token_id", 0)
    return ids, mask, segments


def assert_close_at_real(ours: torch.Tensor, theirs: torch.Tensor, mask: torch.Tensor) -> None:
    """Equal at real (unpadded) positions: (b t ...) tensors."""
    real = mask.bool()
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours[real], theirs[real], atol=ATOL, rtol=0)


def compare_bodies(out, ref, mask) -> None:
    """Hidden states of every layer and attention weights of every real query."""
    assert len(out.hidden_states) == len(ref.hidden_states)
    for ours, theirs in zip(out.hidden_states, ref.hidden_states):
        assert_close_at_real(ours, theirs, mask)
    assert len(out.attentions) == len(ref.attentions)
    for ours, theirs in zip(out.attentions, ref.attentions):  # (b h t s) -> (b t h s)
        assert_close_at_real(ours.transpose(1, 2), theirs.transpose(1, 2), mask)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_pretraining_checkpoint_matches_transformers(tmp_path, name):
    reference = hf_model(transformers.BertForPreTraining, name)
    reference.save_pretrained(tmp_path)
    model = BertForPreTraining.from_pretrained(tmp_path)
    assert not model.training and not model.loading_report.problems
    ids, mask, segments = batch(CONFIGS[name])
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask, token_type_ids=segments,
                        output_hidden_states=True, output_attentions=True)
        out = model(ids, attention_mask=mask, token_type_ids=segments,
                    output_hidden_states=True, output_attentions=True)
    compare_bodies(out, ref, mask)
    assert_close_at_real(out.logits, ref.prediction_logits, mask)
    torch.testing.assert_close(out.nsp_logits, ref.seq_relationship_logits, atol=ATOL, rtol=0)


def test_bare_bert_checkpoint_matches_transformers(tmp_path):
    reference = hf_model(transformers.BertModel, "gelu-2x4", seed=3)
    reference.save_pretrained(tmp_path)
    model = BertModel.from_pretrained(tmp_path)
    ids, mask, segments = batch(CONFIGS["gelu-2x4"], seed=4)
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask, token_type_ids=segments,
                        output_hidden_states=True, output_attentions=True)
        out = model(ids, attention_mask=mask, token_type_ids=segments,
                    output_hidden_states=True, output_attentions=True)
    compare_bodies(out, ref, mask)
    torch.testing.assert_close(out.pooler_output, ref.pooler_output, atol=ATOL, rtol=0)


def test_masked_lm_checkpoint_matches_transformers(tmp_path):
    reference = hf_model(transformers.BertForMaskedLM, "gelu_new-3x3", seed=5)
    reference.save_pretrained(tmp_path)
    model = BertForMaskedLM.from_pretrained(tmp_path)
    ids, mask, segments = batch(CONFIGS["gelu_new-3x3"], seed=6)
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask, token_type_ids=segments)
        out = model(ids, attention_mask=mask, token_type_ids=segments)
    assert_close_at_real(out.logits, ref.logits, mask)
    # The decoder is still tied to the embeddings after loading.
    assert model.mlm_head.decoder.weight is model.bert.embeddings.token_embeddings.weight


def test_pytorch_model_bin_checkpoint(tmp_path):
    """The older pickle format, written the way transformers 4 wrote it (a plain state dict)."""
    reference = hf_model(transformers.BertForPreTraining, "gelu-2x4", seed=7)
    reference.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    state = reference.state_dict()  # includes the tied decoder copies
    state["bert.embeddings.position_ids"] = torch.arange(40).unsqueeze(0)  # a buffer old files hold
    torch.save(state, tmp_path / "pytorch_model.bin")
    model = BertForPreTraining.from_pretrained(tmp_path)
    ids, mask, segments = batch(CONFIGS["gelu-2x4"], seed=8)
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask, token_type_ids=segments)
        out = model(ids, attention_mask=mask, token_type_ids=segments)
    assert_close_at_real(out.logits, ref.prediction_logits, mask)
    # Buffers and the tied decoder's copy are skipped, not errors.
    ignored = " ".join(model.loading_report.ignored)
    assert "position_ids" in ignored and "cls.predictions.decoder.weight" in ignored


def test_sequence_classification_checkpoint(tmp_path):
    reference = hf_model(transformers.BertForSequenceClassification, "relu-1x2", seed=9, num_labels=3)
    reference.save_pretrained(tmp_path)
    model = BertForSequenceClassification.from_pretrained(tmp_path)
    assert model.config.num_labels == 3
    ids, mask, segments = batch(CONFIGS["relu-1x2"], seed=10)
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask, token_type_ids=segments)
        out = model(ids, attention_mask=mask, token_type_ids=segments)
    torch.testing.assert_close(out.logits, ref.logits, atol=ATOL, rtol=0)


def test_head_checkpoint_into_bare_model_drops_the_head(tmp_path):
    reference = hf_model(transformers.BertForPreTraining, "gelu-2x4", seed=11)
    reference.save_pretrained(tmp_path)
    model = BertModel.from_pretrained(tmp_path)  # strict, and still fine
    assert model.loading_report.dropped and all(k.startswith("cls.") for k in model.loading_report.dropped)
    ids, mask, segments = batch(CONFIGS["gelu-2x4"])
    with torch.no_grad():
        ref = reference.bert(ids, attention_mask=mask, token_type_ids=segments)
        out = model(ids, attention_mask=mask, token_type_ids=segments)
    assert_close_at_real(out.last_hidden_state, ref.last_hidden_state, mask)


def test_bare_checkpoint_into_head_model_strict_and_not(tmp_path):
    reference = hf_model(transformers.BertModel, "gelu-2x4", seed=12)
    reference.save_pretrained(tmp_path)
    with pytest.raises(CheckpointMismatchError, match="classifier.weight") as error:
        BertForSequenceClassification.from_pretrained(tmp_path)
    assert "strict=False" in str(error.value)

    model = BertForSequenceClassification.from_pretrained(tmp_path, strict=False, num_labels=5)
    report = model.loading_report
    assert report.newly_initialised == ["classifier.weight", "classifier.bias"]
    assert not report.missing and not report.unexpected and not report.mismatched
    assert model.classifier.weight.shape == (5, 32)
    torch.testing.assert_close(model.bert.pooler.dense.weight, reference.pooler.dense.weight)
    torch.testing.assert_close(
        model.bert.blocks[1].feedforward.contract.weight, reference.encoder.layer[1].output.dense.weight
    )


def test_old_gamma_beta_layer_norm_names(tmp_path):
    """Checkpoints from the original TensorFlow conversion call LayerNorm's parameters gamma/beta."""
    reference = hf_model(transformers.BertForPreTraining, "gelu-2x4", seed=11)
    reference.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    state = {
        key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): value
        for key, value in reference.state_dict().items()
    }
    assert any(key.endswith("LayerNorm.gamma") for key in state)
    torch.save(state, tmp_path / "pytorch_model.bin")
    model = BertForPreTraining.from_pretrained(tmp_path)
    ids, mask, segments = batch(CONFIGS["gelu-2x4"], seed=12)
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask, token_type_ids=segments)
        out = model(ids, attention_mask=mask, token_type_ids=segments)
    assert_close_at_real(out.logits, ref.prediction_logits, mask)
