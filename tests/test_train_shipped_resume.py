"""The laptop pair's training survives a kill: a process killed with SIGKILL resumes to the same weights.

``scripts/train_shipped.py`` trains each checkpoint for about an hour on a CPU, and a laptop
sleeps, a session ends, a terminal closes. The run writes a checkpoint every few minutes; this
kills a real training process (no chance to clean up) after its first checkpoint and resumes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
# mini-BERT's recipe (sparse prediction, bf16 autocast) at the tiny size, a checkpoint every 2 steps.
RUN = ["-m", "minitransformers", "train", "bert", "--steps", "8", "--preset", "tiny", "--set", "batch_size=4",
       "eval_batches=1", "eval_every=2", "checkpoint_every=2", "compile=false", "progress=false"]


def _train(output: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, *RUN, "--output", str(output), *extra], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _weights(output: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(output / "mini-bert-shakespeare" / "model.safetensors")


@pytest.mark.slow
def test_a_killed_bert_run_resumes_to_the_weights_of_an_uninterrupted_one(tmp_path):
    whole = _train(tmp_path / "whole")
    whole_log, _ = whole.communicate(timeout=600)
    assert whole.returncode == 0, whole_log[-2000:]

    killed = _train(tmp_path / "killed")
    checkpoint = tmp_path / "killed" / "_checkpoints" / "mini-bert-shakespeare" / "checkpoint.pt"
    deadline = time.time() + 600
    while not checkpoint.exists() and killed.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert killed.poll() is None, "the run ended before it could be killed"
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "killed" / "mini-bert-shakespeare" / "model.safetensors").exists()

    resumed = _train(tmp_path / "killed", "--resume")
    resumed_log, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, resumed_log[-2000:]
    assert "resumed from" in resumed_log
    expected = _weights(tmp_path / "whole")
    got = _weights(tmp_path / "killed")
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert torch.equal(got[name], value), name
