"""The command line: the demo runs with no arguments, help works, user mistakes give one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from minitransformers.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_shipped_weights(tmp_path, monkeypatch):
    """Point the weights folder at an empty directory, so the demo takes its pre-weights path."""
    empty = tmp_path / "weights"
    empty.mkdir()
    monkeypatch.setenv("MINITRANSFORMERS_WEIGHTS", str(empty))
    return empty


def test_demo_without_weights_prints_counts_and_saves_the_mask_figure(no_shipped_weights, tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert main(["demo", "--output-dir", str(out_dir), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "GPTLMHeadModel" in printed and "BertForMaskedLM" in printed
    assert "parameters" in printed
    figure = out_dir / "masks_bidirectional_vs_causal.png"
    assert figure.is_file() and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_dash_m_runs_the_demo_with_no_arguments(no_shipped_weights, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "minitransformers", "demo"], check=False, cwd=tmp_path, capture_output=True,
        text=True, timeout=120, env={**_env(), "MINITRANSFORMERS_WEIGHTS": str(no_shipped_weights)},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo_output" / "masks_bidirectional_vs_causal.png").is_file()


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    for command in ("demo", "train"):
        assert command in printed


def test_bad_device_is_one_line_on_stderr_with_exit_code_2(no_shipped_weights, capsys):
    assert main(["demo", "--device", "no-such-device"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert "device" in captured.err


def test_train_says_it_is_not_ready_without_a_traceback(capsys):
    code = main(["train"])
    captured = capsys.readouterr()
    assert code != 0 and "Traceback" not in captured.err and "train" in captured.err


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env
