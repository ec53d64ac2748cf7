"""``minitransformers train``: a tiny run end to end, and its argument errors."""

import json

import pytest
import torch

from minitransformers import GPTLMHeadModel
from minitransformers.cli import main


@pytest.mark.slow
def test_train_char_writes_a_loadable_checkpoint_with_card(tmp_path):
    code = main(["train", "char", "--output", str(tmp_path), "--steps", "3", "--preset", "tiny",
                 "--set", "batch_size=4", "progress=false"])
    assert code == 0
    directory = tmp_path / "char-gpt-shakespeare"
    record = json.loads((directory / "training.json").read_text())
    assert record["train_config"]["max_steps"] == 3 and record["train_config"]["batch_size"] == 4
    assert record["validation"]["loss"] > 0
    card = (directory / "README.md").read_text()
    assert "validation (held-out plays)" in card
    assert "3-step run, not the shipped recipe" in card  # a short run does not claim to be the shipped one
    assert record["best_step"] == 3 and record["validation"]["context"] == 128
    model = GPTLMHeadModel.from_pretrained(directory)
    assert model.config.n_layers == 2 and model.config.hidden_size == 64
    assert next(model.parameters()).dtype == torch.float32  # stored as float16, loaded as float32
    # The periodic checkpoint lets an interrupted run resume.
    assert (tmp_path / "_checkpoints" / "char-gpt-shakespeare" / "checkpoint.pt").exists()


def test_bad_override_is_one_clear_error(tmp_path, capsys):
    assert main(["train", "gpt", "--output", str(tmp_path), "--set", "learning_rat=3"]) == 2
    assert "learning_rate" in capsys.readouterr().err


def test_missing_config_file(tmp_path, capsys):
    assert main(["train", "bert", "--output", str(tmp_path), "--config", str(tmp_path / "nope.json")]) == 2
    assert "no config file" in capsys.readouterr().err
