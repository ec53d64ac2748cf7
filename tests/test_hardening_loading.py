"""Hardening of ``from_pretrained``: shard indexes, sizes before allocation, dtypes, strict keys,
file-access messages and mistyped paths (issue 20, items 1, 3, 4, 5, 17)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from minitransformers import BertConfig, BertModel, GPTConfig, GPTLMHeadModel
from minitransformers.pretrained import CheckpointError, CheckpointNotFoundError, CheckpointMismatchError

TINY_BERT = BertConfig(vocab_size=50, hidden_size=16, n_layers=2, n_heads=2, max_positions=20)
TINY_GPT = GPTConfig(vocab_size=60, hidden_size=16, n_layers=2, n_heads=2, max_positions=24)


@pytest.fixture
def bert_dir(tmp_path):
    torch.manual_seed(0)
    BertModel(TINY_BERT).save_pretrained(tmp_path / "bert")
    return tmp_path / "bert"


@pytest.fixture
def gpt_dir(tmp_path):
    torch.manual_seed(0)
    GPTLMHeadModel(TINY_GPT).save_pretrained(tmp_path / "gpt")
    return tmp_path / "gpt"


def _shard(directory: Path, weight_map) -> None:
    """Replace model.safetensors by an index (the file itself moves to shard.safetensors)."""
    (directory / "model.safetensors").rename(directory / "shard.safetensors")
    (directory / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))


def test_a_valid_shard_index_loads(bert_dir):
    names = list(load_file(bert_dir / "model.safetensors"))
    _shard(bert_dir, dict.fromkeys(names, "shard.safetensors"))
    BertModel.from_pretrained(bert_dir)


@pytest.mark.parametrize("weight_map, words", [
    ({"embeddings.word_embeddings.weight": 3}, "should name a shard file"),
    (["shard.safetensors"], "weight_map"),
    ("shard.safetensors", "weight_map"),
])
def test_malformed_shard_index_is_one_clear_error(bert_dir, weight_map, words):
    _shard(bert_dir, weight_map)
    with pytest.raises(CheckpointError, match=words) as error:
        BertModel.from_pretrained(bert_dir)
    assert "index.json" in str(error.value)


def test_index_that_is_a_list_is_refused(bert_dir):
    _shard(bert_dir, {})
    (bert_dir / "model.safetensors.index.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="weight_map"):
        BertModel.from_pretrained(bert_dir)


@pytest.mark.parametrize("where", ["parent", "absolute", "symlink"])
def test_shards_outside_the_checkpoint_folder_are_refused(bert_dir, tmp_path, where):
    names = list(load_file(bert_dir / "model.safetensors"))
    outside = tmp_path / "other"
    outside.mkdir()
    (bert_dir / "model.safetensors").rename(outside / "model.safetensors")
    if where == "parent":
        shard = "../other/model.safetensors"
    elif where == "absolute":
        shard = str(outside / "model.safetensors")
    else:
        (bert_dir / "link.safetensors").symlink_to(outside / "model.safetensors")
        shard = "link.safetensors"
    (bert_dir / "model.safetensors.index.json").write_text(json.dumps({"weight_map": dict.fromkeys(names, shard)}))
    with pytest.raises(CheckpointError, match="outside the checkpoint folder"):
        BertModel.from_pretrained(bert_dir)


@pytest.mark.parametrize("key, value, words", [
    ("vocab_size", 10**12, "vocab_size"),
    ("hidden_size", 2**20, "hidden_size"),
    ("num_hidden_layers", 10**6, "n_layers|num_hidden_layers"),
    ("max_position_embeddings", 10**9, "max_position"),
    ("vocab_size", 51, "vocab_size=51 but the weights say 50"),
    ("hidden_size", 32, "hidden_size=32 but the weights say 16"),
    ("num_hidden_layers", 3, "num_hidden_layers=3 but the weights say 2"),
    ("max_position_embeddings", 21, "max_position_embeddings=21 but the weights say 20"),
])
def test_config_sizes_that_contradict_the_weights_are_refused_before_allocating(bert_dir, monkeypatch, key,
                                                                                value, words):
    config = json.loads((bert_dir / "config.json").read_text())
    config[key] = value
    if key == "hidden_size":
        config["intermediate_size"] = 4 * value
    (bert_dir / "config.json").write_text(json.dumps(config))

    def no_building(*args, **kwargs):
        raise AssertionError("the model was built before the sizes were checked")

    monkeypatch.setattr(BertModel, "__init__", no_building)
    with pytest.raises(CheckpointError, match=words):
        BertModel.from_pretrained(bert_dir)


def test_absurd_gpt_sizes_are_refused(gpt_dir):
    config = json.loads((gpt_dir / "config.json").read_text())
    config["n_layer"] = 5
    (gpt_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="n_layer=5 but the weights say 2"):
        GPTLMHeadModel.from_pretrained(gpt_dir)


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.int8])
def test_weights_of_a_non_float_dtype_are_refused_by_name(bert_dir, dtype):
    tensors = load_file(bert_dir / "model.safetensors")
    key = "embeddings.word_embeddings.weight"
    tensors[key] = tensors[key].to(dtype)
    save_file(tensors, bert_dir / "model.safetensors")
    with pytest.raises(CheckpointError, match=rf"{key} \({str(dtype).removeprefix('torch.')}\)"):
        BertModel.from_pretrained(bert_dir)


def test_gpt2_buffers_of_other_dtypes_are_still_ignored(gpt_dir):
    tensors = load_file(gpt_dir / "model.safetensors")
    tensors["transformer.h.0.attn.bias"] = torch.ones(1, 1, 24, 24, dtype=torch.bool)
    save_file(tensors, gpt_dir / "model.safetensors")
    GPTLMHeadModel.from_pretrained(gpt_dir)


def test_strict_refuses_an_extra_key(gpt_dir):
    tensors = load_file(gpt_dir / "model.safetensors")
    tensors["extra.weight"] = torch.zeros(3)
    save_file(tensors, gpt_dir / "model.safetensors")
    with pytest.raises(CheckpointMismatchError, match="extra.weight"):
        GPTLMHeadModel.from_pretrained(gpt_dir)
    assert "extra.weight" in GPTLMHeadModel.from_pretrained(gpt_dir, strict=False).loading_report.unexpected


def test_strict_refuses_an_unprefixed_duplicate_with_other_values(gpt_dir):
    tensors = load_file(gpt_dir / "model.safetensors")
    assert "transformer.wte.weight" in tensors
    tensors["wte.weight"] = torch.randn_like(tensors["transformer.wte.weight"])
    save_file(tensors, gpt_dir / "model.safetensors")
    with pytest.raises(CheckpointMismatchError, match="wte.weight"):
        GPTLMHeadModel.from_pretrained(gpt_dir)


def test_strict_refuses_a_prefixed_duplicate_of_a_bare_checkpoint(tmp_path):
    from minitransformers import GPTModel

    torch.manual_seed(0)
    GPTModel(TINY_GPT).save_pretrained(tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    assert "wte.weight" in tensors
    tensors["transformer.wte.weight"] = torch.randn_like(tensors["wte.weight"])
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointMismatchError):
        GPTModel.from_pretrained(tmp_path)


def test_a_known_task_head_is_still_dropped(bert_dir, tmp_path):
    from minitransformers import BertForPreTraining

    torch.manual_seed(0)
    BertForPreTraining(TINY_BERT).save_pretrained(tmp_path / "pre")
    report = BertModel.from_pretrained(tmp_path / "pre").loading_report
    assert any(key.startswith("cls.") for key in report.dropped)


def test_missing_weights_file_is_not_called_damaged(bert_dir, monkeypatch):
    from minitransformers.pretrained import reading

    monkeypatch.setattr(reading, "find_weights", lambda directory: directory / "model.safetensors")
    (bert_dir / "model.safetensors").unlink()
    with pytest.raises(CheckpointNotFoundError, match="does not exist") as error:
        BertModel.from_pretrained(bert_dir)
    assert "damaged" not in str(error.value)


_AS_NOBODY = """
import os, sys
import minitransformers, safetensors.torch, json
from minitransformers import BertModel
if os.geteuid() == 0:
    os.setgid(65534); os.setuid(65534)  # root reads everything; nobody does not
try:
    BertModel.from_pretrained(sys.argv[1])
except Exception as error:
    print(type(error).__name__ + ": " + str(error))
"""


@pytest.fixture
def shared_folder():
    """A folder under /tmp that the `nobody` user can enter (pytest's tmp_path is root-only)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="mt-perm-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        path.chmod(0o755)
    shutil.rmtree(folder)


def _load_as_nobody(folder: Path) -> str:
    # Under root, chmod does not stop reading, so the load runs in a child that drops to `nobody`.
    code = [sys.executable, "-c", _AS_NOBODY, str(folder)]
    out = subprocess.run(code, capture_output=True, text=True, cwd=Path(__file__).parents[1], timeout=120)
    return out.stdout + out.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unreadable_weights_say_permission_not_damage(shared_folder):
    torch.manual_seed(0)
    BertModel(TINY_BERT).save_pretrained(shared_folder / "bert")
    (shared_folder / "bert").chmod(0o755)
    (shared_folder / "bert" / "config.json").chmod(0o644)
    (shared_folder / "bert" / "model.safetensors").chmod(0o000)
    out = _load_as_nobody(shared_folder / "bert")
    assert "no permission to read" in out, out
    assert "damaged" not in out and "No such file" not in out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_checkpoint_folder_without_permission(shared_folder):
    torch.manual_seed(0)
    BertModel(TINY_BERT).save_pretrained(shared_folder / "bert")
    (shared_folder / "bert").chmod(0o000)
    out = _load_as_nobody(shared_folder / "bert")
    assert out.startswith("CheckpointError: no permission"), out


def test_weights_path_that_is_a_folder(bert_dir, monkeypatch):
    from minitransformers.pretrained import reading

    (bert_dir / "model.safetensors").unlink()
    (bert_dir / "model.safetensors").mkdir()
    monkeypatch.setattr(reading, "find_weights", lambda directory: directory / "model.safetensors")
    with pytest.raises(CheckpointError, match="is a folder"):
        BertModel.from_pretrained(bert_dir)


@pytest.mark.parametrize("typo", ["weights_here/mini-gp", "./mini-gp", "a/b/c"])
def test_a_mistyped_local_path_is_not_sent_to_the_hub(tmp_path, monkeypatch, typo):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "weights_here" / "mini-gpt-shakespeare").mkdir(parents=True)
    (tmp_path / "mini-gpt-shakespeare").mkdir()
    from minitransformers.pretrained import hub

    monkeypatch.setattr(hub, "_download", lambda name: pytest.fail(f"{name} was looked up on the hub"))
    with pytest.raises(CheckpointNotFoundError, match="no directory") as error:
        GPTLMHeadModel.from_pretrained(typo)
    if typo != "a/b/c":
        assert "did you mean" in str(error.value) and "mini-gpt-shakespeare" in str(error.value)


# ----- issue 29, item 10: every size field is checked before allocating -------------------------

def _edit_checkpoint(directory: Path, key: str, value, drop: str | None = None) -> None:
    config = json.loads((directory / "config.json").read_text())
    config[key] = value
    (directory / "config.json").write_text(json.dumps(config))
    if drop is not None:  # a checkpoint without the tensor that would show the size
        tensors = load_file(directory / "model.safetensors")
        del tensors[drop]
        save_file(tensors, directory / "model.safetensors")


@pytest.mark.parametrize("family, key, value, drop, words", [
    ("gpt", "n_inner", 10**8, None, "n_inner=100000000 but the weights say 64"),
    ("bert", "intermediate_size", 10**8, None, "intermediate_size=100000000 but the weights say 64"),
    ("bert", "type_vocab_size", 10**12, None, r"segment embeddings.*type_vocab_size=1000000000000"),
    ("bert", "type_vocab_size", 3, None, "type_vocab_size=3 but the weights say 2"),
    ("bert", "type_vocab_size", 10**8, "embeddings.token_type_embeddings.weight",
     r"asks for about 1\.6e\+09 parameters.*type_vocab_size=100000000"),
    ("gpt", "n_positions", 10**8, "transformer.wpe.weight", r"asks for about .*n_positions=100000000, n_embd=16"),
    ("gpt", "n_inner", 10**8, "transformer.h.0.mlp.c_fc.weight", r"n_inner=100000000"),
])
def test_every_size_field_is_checked_before_the_model_is_built(bert_dir, gpt_dir, monkeypatch, family, key, value,
                                                               drop, words):
    model_class, directory = (BertModel, bert_dir) if family == "bert" else (GPTLMHeadModel, gpt_dir)
    _edit_checkpoint(directory, key, value, drop)

    def no_building(*args, **kwargs):
        raise AssertionError("the model was built before the sizes were checked")

    monkeypatch.setattr(model_class, "__init__", no_building)
    with pytest.raises(CheckpointError, match=words):
        model_class.from_pretrained(directory)


@pytest.mark.parametrize("config_class", [BertConfig, GPTConfig])
def test_the_parameter_estimate_counts_every_size_field(config_class):
    config = config_class.preset("tiny")
    allocating = set(config_class.SIZE_FIELDS) - {"n_heads"}  # n_heads only splits hidden_size
    expected = {"vocab_size", "hidden_size", "n_layers", "intermediate_size", "max_positions"}
    assert allocating == expected | ({"type_vocab_size", "num_labels"} if config_class is BertConfig else set())
    for field in allocating:
        grown = config.replace(**{field: 2 * getattr(config, field)})
        assert grown.estimated_parameters() > config.estimated_parameters(), field
    # The estimate is close to a real model's count (within 2 %): it is a guard, not a guess.
    from minitransformers import BertForSequenceClassification

    real = (BertForSequenceClassification if config_class is BertConfig else GPTLMHeadModel)(config).num_parameters()
    assert abs(config.estimated_parameters() - real) < 0.02 * real
