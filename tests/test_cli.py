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
    for command in ("demo", "generate", "fill-mask", "embed", "attention", "train"):
        assert command in printed


def test_bad_device_is_one_line_on_stderr_with_exit_code_2(no_shipped_weights, capsys):
    assert main(["demo", "--device", "no-such-device"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert "device" in captured.err


def test_train_without_a_model_kind_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train"])
    captured = capsys.readouterr()
    assert exit_info.value.code == 2 and "Traceback" not in captured.err and "kind" in captured.err


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# ---------------------------------------------------------------- with (tiny, random) shipped weights
@pytest.fixture(scope="module")
def shipped_weights(tmp_path_factory):
    """A weights/ folder laid out like the real one, holding tiny random models and their tokenizers."""
    import torch

    from minitransformers import BertConfig, BertForPreTraining, GPTConfig, GPTLMHeadModel
    from minitransformers.pretrained import minilm_path
    from minitransformers.tokenizers import CharTokenizer, load_tokenizer

    root = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    chars = CharTokenizer.from_text("ROMEO: But soft, what light through yonder window breaks? é")
    gpt = GPTLMHeadModel(GPTConfig.preset("tiny", vocab_size=chars.vocab_size, initializer_range=0.2))
    gpt.save_pretrained(root / "mini-gpt-shakespeare")
    chars.save(root / "mini-gpt-shakespeare")
    wordpiece = load_tokenizer(minilm_path())
    bert = BertForPreTraining(BertConfig.preset("tiny", vocab_size=wordpiece.vocab_size, hidden_size=32))
    bert.save_pretrained(root / "mini-bert-shakespeare")
    wordpiece.save(root / "mini-bert-shakespeare")
    return root


@pytest.fixture
def weights(shipped_weights, monkeypatch):
    monkeypatch.setenv("MINITRANSFORMERS_WEIGHTS", str(shipped_weights))
    return shipped_weights


def _load(folder, model_class):
    from minitransformers.tokenizers import load_tokenizer

    return model_class.from_pretrained(folder), load_tokenizer(folder)


def test_demo_uses_the_shipped_weights_when_present(weights, tmp_path, capsys):
    assert main(["demo", "--output-dir", str(tmp_path), "--max-new-tokens", "10", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "mini-gpt-shakespeare" in printed and "mini-bert-shakespeare" in printed
    assert "ROMEO:" in printed and "Fill in the blank" in printed
    assert (tmp_path / "bert_attention.png").is_file()
    assert not (tmp_path / "masks_bidirectional_vs_causal.png").exists()


def test_generate_greedy_prints_what_the_library_generates(weights, capsys):
    import torch

    from minitransformers import GPTLMHeadModel

    model, tokenizer = _load(weights / "mini-gpt-shakespeare", GPTLMHeadModel)
    ids = model.generate(torch.tensor([tokenizer.encode("ROMEO:")]), max_new_tokens=12)
    assert main(["generate", "ROMEO:", "--temperature", "0", "--max-new-tokens", "12"]) == 0
    assert capsys.readouterr().out == tokenizer.decode(ids[0].tolist()) + "\n"


def test_generate_with_a_seed_repeats(weights, capsys):
    outputs = []
    for _ in range(2):
        assert main(["generate", "--prompt", "ROMEO:", "--seed", "5", "--max-new-tokens", "15"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and outputs[0].startswith("ROMEO:")


def test_fill_mask_prints_the_library_candidates(weights, capsys):
    from minitransformers import BertForMaskedLM
    from minitransformers.inference import fill_mask

    model, tokenizer = _load(weights / "mini-bert-shakespeare", BertForMaskedLM)
    expected = [c["token"] for c in fill_mask(model, tokenizer, "the [MASK] sat .", top_k=3)[0]]
    assert main(["fill-mask", "the [MASK] sat .", "--top-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[MASK] #1:" and [line.split()[0] for line in lines[1:4]] == expected


def test_embed_saves_the_library_embeddings(weights, tmp_path, capsys):
    import numpy as np

    from minitransformers import BertModel
    from minitransformers.inference import sentence_embeddings

    texts = ["the cat sat", "a dog ran home", "stocks fell"]
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(texts) + "\n\n", encoding="utf-8")
    assert main(["embed", str(source), "--output", str(tmp_path / "e.npy")]) == 0
    model, tokenizer = _load(weights / "mini-bert-shakespeare", BertModel)
    expected = sentence_embeddings(model, tokenizer, texts).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "e.npy"), expected, atol=1e-6)
    assert "(3, 32)" in capsys.readouterr().out


def test_attention_writes_a_png_for_bert_and_gpt(weights, tmp_path):
    for model, name in [("mini-bert-shakespeare", "bert.png"), ("mini-gpt-shakespeare", "gpt.png")]:
        assert main(["attention", "ROMEO: soft", "--model", model, "--output", str(tmp_path / name)]) == 0
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert main(["attention", "soft", "--layer", "1", "--head", "0",
                 "--output", str(tmp_path / "one.png")]) == 0


@pytest.mark.parametrize("argv, words", [
    (["generate", "ROMEO:", "--max-new-tokens", "-1"], "--max-new-tokens must be >= 0"),
    (["fill-mask", "no blank here"], "[MASK]"),
    (["fill-mask", "a [MASK]", "--model", "mini-gpt-shakespeare"], "BERT"),
    (["attention", "soft", "--layer", "7"], "layers 0..1"),
    (["embed", "--text", "x", "--output", "out.txt"], ".npy"),
    (["embed", "no-such-file.txt"], "cannot read"),
    (["generate", "hi", "--model", "no-such-model"], "mini-gpt-shakespeare"),
])
def test_user_mistakes_give_one_line_and_exit_code_2(weights, capsys, argv, words):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert words in captured.err
    assert captured.out == ""


def test_attention_can_also_write_the_interactive_page(tmp_path, capsys):
    weights = REPO / "weights" / "mini-gpt-shakespeare"
    page = tmp_path / "page.html"
    code = main(["attention", "--model", str(weights), "To be or not to be", "--output",
                 str(tmp_path / "a.png"), "--html", str(page)])
    assert code == 0 and page.exists() and (tmp_path / "a.png").exists()
    html = page.read_text()
    assert "http://" not in html and "https://" not in html
    assert "interactive explorer saved" in capsys.readouterr().out
