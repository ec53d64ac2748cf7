"""``scripts/nsp_by_context.py``: NSP scored at several contexts, and clear refusals."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from minitransformers import BertConfig, BertForPreTraining, GPTConfig, GPTLMHeadModel, load_tokenizer

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "nsp_by_context.py"
SHIPPED = ROOT / "weights" / "mini-bert-shakespeare"


def _script():
    spec = importlib.util.spec_from_file_location("nsp_by_context", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A random BERT of 64 positions with the shipped tokenizer (so the plays tokenize as shipped)."""
    tokenizer = load_tokenizer(SHIPPED)
    torch.manual_seed(0)
    config = BertConfig.preset("tiny", vocab_size=tokenizer.vocab_size, max_positions=64,
                               pad_token_id=tokenizer.pad_token_id)
    folder = tmp_path_factory.mktemp("tiny-bert")
    BertForPreTraining(config).save_pretrained(folder)
    tokenizer.save(folder)
    return folder


def test_shorter_pairs_hold_fewer_tokens_and_every_score_is_a_share(tiny_bert):
    rows = _script().nsp_by_context(tiny_bert, [32, 64])
    assert [row["context"] for row in rows] == [32, 64]
    assert rows[0]["pairs"] == rows[1]["pairs"]  # one pair per starting paragraph, at any context
    assert rows[0]["masked_tokens"] < rows[1]["masked_tokens"]  # each pair is cut shorter
    for row in rows:
        assert 0.0 <= row["nsp_accuracy"] <= 1.0 and 0.0 <= row["masked_accuracy"] <= 1.0


def test_a_context_longer_than_the_model_reads_is_refused(tiny_bert):
    with pytest.raises(ValueError, match="reads at most 64 tokens"):
        _script().nsp_by_context(tiny_bert, [64, 128])


@pytest.mark.parametrize("kind", ["gpt", "missing"])
def test_a_folder_without_a_bert_gets_one_line(tmp_path, kind):
    folder = tmp_path / kind
    if kind == "gpt":
        GPTLMHeadModel(GPTConfig.preset("tiny")).save_pretrained(folder)
    result = subprocess.run([sys.executable, str(SCRIPT), str(folder)], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert ("not a BERT checkpoint" if kind == "gpt" else "not a checkpoint folder") in result.stderr
