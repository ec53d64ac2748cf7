"""``shipped_path``: the shipped checkpoints are found from any working folder, ``$MINITRANSFORMERS_WEIGHTS``
overrides where, and a missing one is one line that says how to get it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import minitransformers
from minitransformers import CheckpointNotFoundError, shipped_path
from minitransformers.cli import main

REPO_WEIGHTS = Path(__file__).resolve().parents[1] / "weights"


def test_found_from_another_working_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MINITRANSFORMERS_WEIGHTS", raising=False)
    monkeypatch.chdir(tmp_path)  # no weights/ here, nor in ..
    folder = shipped_path("mini-gpt-shakespeare")
    assert folder == REPO_WEIGHTS / "mini-gpt-shakespeare" and (folder / "config.json").is_file()
    assert minitransformers.GPTLMHeadModel.from_pretrained(folder).config.n_layers >= 1


def test_the_environment_variable_overrides_the_location(tmp_path, monkeypatch):
    copy = tmp_path / "my weights" / "mini-bert-shakespeare"
    shutil.copytree(REPO_WEIGHTS / "mini-bert-shakespeare", copy)
    monkeypatch.setenv("MINITRANSFORMERS_WEIGHTS", str(tmp_path / "my weights"))
    assert shipped_path("mini-bert-shakespeare") == copy
    with pytest.raises(CheckpointNotFoundError, match="from \\$MINITRANSFORMERS_WEIGHTS"):
        shipped_path("mini-gpt-shakespeare")  # not in the overriding folder: no silent fallback


def test_a_missing_checkpoint_is_one_line_that_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITRANSFORMERS_WEIGHTS", str(tmp_path / "nowhere"))
    with pytest.raises(CheckpointNotFoundError) as missing:
        shipped_path("mini-gpt-shakespeare")
    message = str(missing.value)
    assert "\n" not in message and "no checkpoint 'mini-gpt-shakespeare'" in message
    assert "set MINITRANSFORMERS_WEIGHTS to the weights/ folder" in message and "train_shipped.py" in message
    assert isinstance(missing.value, FileNotFoundError)  # callers that catch FileNotFoundError keep working


def test_an_unknown_name_lists_what_is_there(monkeypatch):
    monkeypatch.delenv("MINITRANSFORMERS_WEIGHTS", raising=False)
    with pytest.raises(CheckpointNotFoundError, match="it holds: .*mini-bert-shakespeare.*; pass one of those names"):
        shipped_path("mini-bart")


def test_the_cli_finds_a_shipped_name_from_another_folder_and_says_what_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MINITRANSFORMERS_WEIGHTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "ROMEO:", "--max-new-tokens", "2", "--device", "cpu"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("MINITRANSFORMERS_WEIGHTS", str(tmp_path))
    assert main(["generate", "ROMEO:", "--device", "cpu"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no checkpoint 'mini-gpt-shakespeare'" in error
