"""``scripts/evaluate_shipped.py`` on folders it cannot score: one line, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "evaluate_shipped.py"


def _folder(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "no-such-folder"
    if kind == "file":
        (tmp_path / "weights.bin").write_bytes(b"x")
        return tmp_path / "weights.bin"
    folder = tmp_path / kind
    folder.mkdir()
    config = {"empty": None, "t5": '{"model_type": "t5"}', "not-json": "{model_type", "list": "[1, 2]"}[kind]
    if config is not None:
        (folder / "config.json").write_text(config)
    return folder


@pytest.mark.parametrize("kind, words", [
    ("missing", "does not exist"), ("file", "is a file"), ("empty", "no config.json"),
    ("t5", "'t5' checkpoint"), ("not-json", "not valid JSON"), ("list", "without a model_type"),
])
def test_a_folder_it_cannot_score_gets_one_line(tmp_path, kind, words):
    result = subprocess.run([sys.executable, str(SCRIPT), str(_folder(tmp_path, kind))],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr
    assert result.stdout == ""
