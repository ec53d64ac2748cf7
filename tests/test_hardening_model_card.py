"""The model card says whether a run is the shipped recipe (issue 20, first-hour list)."""

from __future__ import annotations

from pathlib import Path

import pytest

from minitransformers.recipes.model_card import _differences, _reproduce
from minitransformers.recipes.shipped import default_train_config


def _record(kind: str, script: str, directory: Path) -> dict:
    """A training.json record of a run with exactly the shipped recipe's settings."""
    return {"kind": kind, "train_config": default_train_config(script, directory, device="cpu").to_dict()}


@pytest.mark.parametrize("kind, script", [("gpt", "gpt"), ("bert", "bert"), ("gpt-char", "char")])
def test_the_shipped_recipe_says_how_to_reproduce_it(tmp_path, kind, script):
    assert _reproduce(_record(kind, script, tmp_path), tmp_path, default_train_config).startswith(
        f"Reproduce it with `python scripts/train_shipped.py --only {script}`")


def test_a_short_run_does_not_claim_to_be_the_shipped_model(tmp_path):
    record = _record("gpt", "gpt", tmp_path)
    shipped_steps = record["train_config"]["max_steps"]
    record["train_config"]["max_steps"] = 20
    text = _reproduce(record, tmp_path, default_train_config)
    assert text.startswith(f"This is a 20-step run, not the shipped recipe ({shipped_steps:,} steps")
    assert f"max_steps 20 (shipped: {shipped_steps})" in text and "Reproduce it" not in text


def test_a_changed_learning_rate_is_named(tmp_path):
    record = _record("bert", "bert", tmp_path)
    record["train_config"]["learning_rate"] = 1.5
    assert "learning_rate 1.5 (shipped: " in _reproduce(record, tmp_path, default_train_config)


def test_the_card_says_how_the_recipe_differs_from_its_siblings():
    assert _differences({}) == ""
    text = _differences({"differs_from_sibling": "No dropout."})
    assert "**Not the same recipe as its sibling.** No dropout." in text
