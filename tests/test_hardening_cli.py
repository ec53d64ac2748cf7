"""Hardening of the command line (issue 20, items 10, 13-18 and the first-hour list): each user
mistake is one line on stderr with exit code 2; Ctrl-C at startup is one line with 130; CLI
training is seeded and resumes with its saved settings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minitransformers.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
GPT = str(REPO / "weights" / "mini-gpt-shakespeare")


def _one_line_error(capsys, code, words):
    assert code == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, captured.err
    assert words in captured.err, captured.err


@pytest.mark.parametrize("argv, words", [
    (["generate", "hi", "--temperature", "nan"], "--temperature must be a finite number"),
    (["generate", "hi", "--temperature", "inf"], "--temperature must be a finite number"),
    (["generate", "hi", "--repetition-penalty", "nan"], "--repetition-penalty must be a finite number"),
    (["generate", "hi", "--temperature", "0", "--repetition-penalty", "nan"], "--repetition-penalty"),
    (["generate", "hi", "--top-p", "nan"], "--top-p must be in (0, 1]"),
])
def test_nan_sampling_options_are_one_line(capsys, argv, words):
    _one_line_error(capsys, main(argv), words)


def test_nan_penalty_with_greedy_is_refused_by_the_library_too():
    import torch

    from minitransformers.generation.sampling import choose_next_token

    logits, previous = torch.randn(1, 10), torch.tensor([[1, 2]])
    for kwargs in ({"temperature": 0.0, "repetition_penalty": float("nan")}, {"temperature": float("nan")}):
        with pytest.raises(ValueError, match="finite number"):
            choose_next_token(logits, previous_ids=previous, **kwargs)


@pytest.mark.parametrize("argv, words", [
    (["train", "gpt", "--steps", "0"], "--steps: must be at least 1"),
    (["train", "gpt", "--steps", "-5"], "--steps: must be at least 1"),
    (["train", "gpt", "--steps", "ten"], "--steps: expected a whole number"),
])
def test_train_steps_must_be_positive(capsys, argv, words):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    _one_line_error(capsys, exit_info.value.code, words)


@pytest.mark.parametrize("content, words", [
    ("[1, 2]", "holds a JSON list"),
    ('{"learning_rat": 0.1}', "unknown settings ['learning_rat']"),
    ('{"batch_size": "big"}', "batch_size should be int, got 'big'"),
    ('{"batch_size": 2.5}', "batch_size should be int, got 2.5"),
    ('{"progress": "yes"}', "progress should be bool"),
    ('{"max_steps": ', "is not valid JSON"),
])
def test_train_config_file_mistakes_are_one_line(tmp_path, capsys, content, words):
    (tmp_path / "settings.json").write_text(content)
    code = main(["train", "gpt", "--output", str(tmp_path), "--config", str(tmp_path / "settings.json")])
    _one_line_error(capsys, code, words)


@pytest.mark.parametrize("argv, words", [
    (["attention", "hi", "--model", GPT, "--output", "/dev/null/x.png"], "/dev/null is a file, not a folder"),
    (["attention", "hi", "--model", GPT, "--html", "/dev/null/x.html"], "--html /dev/null/x.html"),
    (["embed", "--text", "hi", "--model", GPT, "--output", "/dev/null/x.npy"], "/dev/null is a file"),
    (["train", "char", "--output", "/dev/null/runs"], "/dev/null is a file"),
    (["attention", "hi", "--model", GPT, "--head", "1"], "--head 1 needs --layer too"),
])
def test_output_and_option_mistakes_are_one_line_before_loading(capsys, argv, words):
    _one_line_error(capsys, main(argv), words)


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs /sys, a folder even root cannot write files in")
def test_an_output_folder_that_refuses_writing_is_one_line(tmp_path, capsys):
    code = main(["attention", "hi", "--model", GPT, "--output", "/sys/attention.png"])
    _one_line_error(capsys, code, "cannot use /sys/attention.png")


def test_a_tokenizer_json_that_is_a_folder_is_one_line(tmp_path, capsys):
    import shutil

    folder = tmp_path / "gpt"
    shutil.copytree(GPT, folder)
    for name in ("vocab.json", "merges.txt", "tokenizer.json"):
        (folder / name).unlink()
    (folder / "tokenizer.json").mkdir()
    _one_line_error(capsys, main(["generate", "hi", "--model", str(folder)]), "is a folder")


def test_a_tokenizer_json_without_vocab_is_one_line(tmp_path, capsys):
    import shutil

    folder = tmp_path / "gpt"
    shutil.copytree(GPT, folder)
    for name in ("vocab.json", "merges.txt"):
        (folder / name).unlink()
    (folder / "tokenizer.json").write_text('{"model": {"type": "BPE"}}')
    _one_line_error(capsys, main(["generate", "hi", "--model", str(folder)]), "no model vocabulary")


def test_a_mistyped_model_path_suggests_the_close_match(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    _one_line_error(capsys, main(["generate", "hi", "--model", "weights/mini-gpt"]),
                    "did you mean weights/mini-gpt-shakespeare")


def test_help_has_no_rest_markup_and_one_device_help():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    device_helps = set()
    for name, sub in subparsers.items():
        assert "``" not in sub.format_help(), name
        device_helps |= {a.help for a in sub._actions if "--device" in a.option_strings}
    assert len(device_helps) == 1


@pytest.mark.parametrize("delay", [0.15, 0.4, 0.8, 1.5])
def test_ctrl_c_while_starting_is_one_line_and_130(delay):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    process = subprocess.Popen([sys.executable, "-m", "minitransformers", "generate", "--model", GPT,
                                "--max-new-tokens", "100000", "--sliding-context", "--temperature", "1",
                                "ROMEO:"],
                               cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and err.strip() == "minitransformers: interrupted", err


# ---------------------------------------------------------------- training: seeded and resumable
TINY_RUN = ["--steps", "4", "--preset", "tiny", "--set", "batch_size=4", "eval_batches=1", "progress=false",
            "checkpoint_every=2"]


def _final_weights(output: Path):
    from safetensors.torch import load_file

    return load_file(output / "char-gpt-shakespeare" / "model.safetensors")


def _weights_at_step_2(output: Path):
    """The model in the checkpoint before the last (steps 2 and 4 were saved)."""
    from minitransformers.training import checkpoint as ckpt

    state = ckpt.read_checkpoint(ckpt.previous_path(output / "_checkpoints" / "char-gpt-shakespeare" / "checkpoint.pt"))
    assert state["step"] == 2
    return state["model"]


@pytest.mark.slow
def test_cli_training_is_seeded_and_resumes_with_its_saved_settings(tmp_path, monkeypatch, capsys):
    import torch

    from minitransformers.training import Trainer

    torch.manual_seed(12345)  # whatever state the process is in: the run seeds itself
    assert main(["train", "char", "--output", str(tmp_path / "one"), *TINY_RUN]) == 0
    card = (tmp_path / "one" / "char-gpt-shakespeare" / "README.md").read_text()
    assert "This is a 4-step run" in card and "Reproduce it" not in card
    expected = _final_weights(tmp_path / "one")

    # Killed after the checkpoint at step 2, then resumed without repeating --steps or --set.
    original = Trainer.save_checkpoint

    def save_then_die(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.step == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "save_checkpoint", save_then_die)
    torch.manual_seed(54321)
    assert main(["train", "char", "--output", str(tmp_path / "killed"), *TINY_RUN]) == 130
    monkeypatch.setattr(Trainer, "save_checkpoint", original)
    capsys.readouterr()
    assert main(["train", "char", "--output", str(tmp_path / "killed"), "--resume"]) == 0
    captured = capsys.readouterr()
    assert "resumed" in captured.out and "warning" not in captured.err, captured.err
    # The same settings give the same run (an unseeded model differed at step 1: 9.0091 vs 9.0240) ...
    at_step_2 = _weights_at_step_2(tmp_path / "one")
    for key, value in _weights_at_step_2(tmp_path / "killed").items():
        assert torch.equal(value, at_step_2[key]), key
    record = json.loads((tmp_path / "killed" / "char-gpt-shakespeare" / "training.json").read_text())
    assert record["train_config"]["max_steps"] == 4 and record["train_config"]["batch_size"] == 4
    assert record["model_config"]["hidden_size"] == 64  # --preset tiny, remembered
    # ... and the killed-and-resumed run ends with the uninterrupted run's weights.
    for key, value in _final_weights(tmp_path / "killed").items():
        assert torch.equal(value, expected[key]), key


@pytest.mark.slow
def test_resuming_with_another_model_size_is_one_line(tmp_path, capsys):
    assert main(["train", "char", "--output", str(tmp_path), "--steps", "2", "--preset", "tiny",
                 "--set", "batch_size=4", "eval_batches=1", "progress=false"]) == 0
    capsys.readouterr()
    code = main(["train", "char", "--output", str(tmp_path), "--resume", "--steps", "3", "--preset", "mini"])
    _one_line_error(capsys, code, "holds a model of another architecture or size")
