"""``scripts/pair_tasks.py --quick`` end to end on the shipped pair: one table, every task, a verdict per row."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from minitransformers.analysis.pair_tasks import TASKS

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pair_tasks.py"
VERDICTS = ("BERT by ", "GPT by ", "no clear winner: ", "a tie")


@pytest.mark.slow
def test_quick_run_prints_one_table_with_a_verdict_on_every_row(tmp_path):
    record = tmp_path / "table.json"
    # One thread: the quick subsets are small, and on a busy machine two threads wait for each other.
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--threads", "1", "--json", str(record)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for task in TASKS:
        assert f"{task}: " in result.stderr  # the progress line with its time
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| task | BERT | GPT | chance |")
    rows = json.loads(record.read_text())["rows"]
    assert len(table) == len(rows) + 1  # the header, then one line per row
    names = " ".join(row["task"] for row in rows)
    for words in ("Fill-in", "Next word", "Genre, linear probe", "held-out plays only", "Which play of 8",
                  "Retrieval", "recall@1", "MRR", "fine-tuned", "Cross-objective"):
        assert words in names
    for row in rows:
        assert len(row["bert"]) == len(row["gpt"]) >= 2  # a spread needs two folds or more
        assert all(0.0 <= score <= 1.0 for score in row["bert"] + row["gpt"] + [row["chance"]])
        assert row["verdict"].startswith(VERDICTS), row
    assert "Machine: cpu (" in result.stdout and "--quick: small subsets, not results" in result.stdout


def test_a_folder_without_a_checkpoint_gets_one_line_and_status_2(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--bert", str(tmp_path), "--quick"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == f"pair_tasks: {tmp_path} holds no config.json; give a checkpoint folder"
