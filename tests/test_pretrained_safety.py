"""Bad checkpoints fail with one clear error, never run code, and never give a half-loaded model."""

from __future__ import annotations

import json
import sys

import pytest
import torch
from safetensors.torch import load as safetensors_load
from safetensors.torch import load_file, save_file

from minitransformers import BertConfig, BertModel, GPTConfig, GPTLMHeadModel, GPTModel
from minitransformers.pretrained import (
    CheckpointError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
    UnsafeCheckpointError,
)
from minitransformers.pretrained.bert_names import bert_name_table
from minitransformers.pretrained.loading import fill_model

TINY = BertConfig(vocab_size=50, hidden_size=16, n_layers=2, n_heads=2, max_positions=20)


@pytest.fixture
def checkpoint(tmp_path):
    """A valid tiny BERT directory written by our own save_pretrained."""
    torch.manual_seed(0)
    BertModel(TINY).save_pretrained(tmp_path)
    return tmp_path


class WritesAFile:
    """Unpickling this calls open(path, "w"): it creates a file, as a malicious payload could."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_crafted_pickle_is_refused_and_runs_nothing(checkpoint, tmp_path_factory):
    (checkpoint / "model.safetensors").unlink()
    marker = tmp_path_factory.mktemp("attack") / "pwned.txt"
    state = {"embeddings.word_embeddings.weight": torch.zeros(50, 16), "payload": WritesAFile(marker)}
    torch.save(state, checkpoint / "pytorch_model.bin")

    # The payload is real: an unrestricted unpickler would create the file.
    control = tmp_path_factory.mktemp("control") / "pwned.txt"
    torch.save({"payload": WritesAFile(control)}, control.parent / "evil.bin")
    torch.load(control.parent / "evil.bin", weights_only=False)
    assert control.exists()

    with pytest.raises(UnsafeCheckpointError, match="refused to load .*open") as error:
        BertModel.from_pretrained(checkpoint)
    assert not marker.exists()
    assert error.value.__cause__ is None  # one clear error, not a chain of torch internals


def test_pickled_whole_model_is_refused(checkpoint):
    (checkpoint / "model.safetensors").unlink()
    torch.save(torch.nn.Linear(2, 2), checkpoint / "pytorch_model.bin")
    with pytest.raises(UnsafeCheckpointError, match="only tensors"):
        BertModel.from_pretrained(checkpoint)


def test_truncated_files_are_corrupt_errors(checkpoint):
    weights = checkpoint / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptCheckpointError, match="truncated or damaged"):
        BertModel.from_pretrained(checkpoint)

    weights.unlink()
    state = {k: v.clone() for k, v in safetensors_load(data).items()}
    torch.save(state, checkpoint / "pytorch_model.bin")
    blob = (checkpoint / "pytorch_model.bin").read_bytes()
    (checkpoint / "pytorch_model.bin").write_bytes(blob[: len(blob) // 3])
    with pytest.raises(CorruptCheckpointError, match="truncated or damaged"):
        BertModel.from_pretrained(checkpoint)


def test_garbage_weights_file(checkpoint):
    (checkpoint / "model.safetensors").write_bytes(b"this is not a safetensors file" * 10)
    with pytest.raises(CorruptCheckpointError):
        BertModel.from_pretrained(checkpoint)


def test_directory_without_weights(checkpoint):
    (checkpoint / "model.safetensors").unlink()
    (checkpoint / "tf_model.h5").write_bytes(b"")
    with pytest.raises(CheckpointNotFoundError, match=r"no weights .*config.json.*tf_model.h5.*TensorFlow"):
        BertModel.from_pretrained(checkpoint)


def test_missing_or_broken_config(checkpoint):
    (checkpoint / "config.json").write_text("{not json")
    with pytest.raises(CorruptCheckpointError, match="not valid JSON"):
        BertModel.from_pretrained(checkpoint)
    (checkpoint / "config.json").unlink()
    with pytest.raises(CheckpointNotFoundError, match="no config.json"):
        BertModel.from_pretrained(checkpoint)


def test_config_of_another_architecture(checkpoint):
    with pytest.raises(CheckpointError, match="'bert' model, but a GPT model reads model_type='gpt2'"):
        GPTModel.from_pretrained(checkpoint)
    config = json.loads((checkpoint / "config.json").read_text())
    (checkpoint / "config.json").write_text(json.dumps({**config, "model_type": "llama"}))
    with pytest.raises(CheckpointError, match="'llama'"):
        BertModel.from_pretrained(checkpoint)
    (checkpoint / "config.json").write_text(json.dumps({**config, "position_embedding_type": "relative_key"}))
    with pytest.raises(CheckpointError, match="relative position embeddings are not implemented"):
        BertModel.from_pretrained(checkpoint)


def test_untied_config_refused_for_lm_head(tmp_path):
    torch.manual_seed(0)
    GPTModel(GPTConfig(vocab_size=40, hidden_size=16, n_layers=1, n_heads=2)).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "tie_word_embeddings": False}))
    with pytest.raises(CheckpointError, match="tie_word_embeddings=false"):
        GPTLMHeadModel.from_pretrained(tmp_path)
    # 2 embeddings + 12 in the block + 2 final norm
    assert GPTModel.from_pretrained(tmp_path).loading_report.loaded == 16


def broken_state(checkpoint):
    """One tensor missing, one extra, two of the wrong shape."""
    state = load_file(checkpoint / "model.safetensors")
    del state["encoder.layer.1.output.dense.bias"]
    state["encoder.layer.0.attention.self.rotary.weight"] = torch.zeros(3)
    state["encoder.layer.0.attention.self.query.weight"] = torch.zeros(16, 8)
    state["pooler.dense.bias"] = torch.zeros(17)
    return state


def test_mismatches_are_listed_in_one_error(checkpoint):
    save_file(broken_state(checkpoint), checkpoint / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointMismatchError) as error:
        BertModel.from_pretrained(checkpoint)
    message = str(error.value)
    assert "blocks.1.feedforward.contract.bias" in message  # missing, by our name
    assert "encoder.layer.0.attention.self.rotary.weight" in message  # unexpected
    assert "encoder.layer.0.attention.self.query.weight: model expects (16, 16), checkpoint has (16, 8)" in message
    assert "pooler.dense.bias: model expects (16,), checkpoint has (17,)" in message
    report = error.value.report
    assert (len(report.missing), len(report.unexpected), len(report.mismatched)) == (1, 1, 2)


def test_non_strict_loads_what_fits_and_reports_the_rest(checkpoint):
    original = load_file(checkpoint / "model.safetensors")
    save_file(broken_state(checkpoint), checkpoint / "model.safetensors", metadata={"format": "pt"})
    torch.manual_seed(123)
    model = BertModel.from_pretrained(checkpoint, strict=False)
    report = model.loading_report
    assert report.missing == ["blocks.1.feedforward.contract.bias"]
    assert report.unexpected == ["encoder.layer.0.attention.self.rotary.weight"]
    assert report.loaded == len(original) - 3
    assert "shape mismatches" in str(report)
    torch.testing.assert_close(model.blocks[0].attention.key.weight,
                               original["encoder.layer.0.attention.self.key.weight"])
    # The skipped query matrix keeps its fresh random values, not the checkpoint's.
    assert not torch.equal(model.blocks[0].attention.query.weight,
                           original["encoder.layer.0.attention.self.query.weight"])


def test_strict_failure_copies_nothing(checkpoint):
    """fill_model checks everything before the first copy, so a failed load leaves no trace."""
    model = BertModel(TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError):
        fill_model(model, bert_name_table(model), broken_state(checkpoint), strict=True, source="test")
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_a_checkpoint_that_fits_nothing_is_an_error_even_non_strict(checkpoint):
    state = {f"something.else.{i}": torch.zeros(2) for i in range(3)}
    save_file(state, checkpoint / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="nothing would be loaded"):
        BertModel.from_pretrained(checkpoint, strict=False)


def test_config_override_that_changes_shapes(checkpoint):
    with pytest.raises(CheckpointMismatchError, match=r"word_embeddings.weight: model expects \(60, 16\)"):
        BertModel.from_pretrained(checkpoint, vocab_size=60)
    with pytest.raises(TypeError, match="unknown arguments \\['n_layer'\\]"):
        BertModel.from_pretrained(checkpoint, n_layer=3)


def test_missing_directory_and_file_paths(tmp_path, checkpoint):
    with pytest.raises(CheckpointNotFoundError, match="no directory"):
        BertModel.from_pretrained(tmp_path / "nowhere")
    with pytest.raises(CheckpointNotFoundError, match="is a file; pass the directory"):
        BertModel.from_pretrained(checkpoint / "config.json")


def test_hub_name_offline_gives_one_short_error(monkeypatch):
    import huggingface_hub

    def no_network(*args, **kwargs):
        raise ConnectionError("Name or service not known\n(a long traceback would follow)")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_network)
    with pytest.raises(CheckpointNotFoundError) as error:
        GPTLMHeadModel.from_pretrained("gpt2")
    message = str(error.value)
    assert "not a local directory" in message and "pass its path" in message
    assert "ConnectionError: Name or service not known" in message and "traceback" not in message
    assert error.value.__cause__ is None and error.value.__suppress_context__


def test_hub_name_without_huggingface_hub(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import now fails
    with pytest.raises(CheckpointNotFoundError, match="huggingface_hub is not installed.*pass its path"):
        BertModel.from_pretrained("bert-base-uncased")
