"""``python -m minitransformers demo``: the attention picture shows the sentence the demo just filled in."""

from __future__ import annotations

import pytest

import minitransformers.plotting
from minitransformers import shipped_path
from minitransformers.cli import main
from minitransformers.cli_commands import demo
from minitransformers.tokenizers import load_tokenizer


@pytest.fixture
def drawn(monkeypatch):
    """Every call of plot_attention_grid during the test: its tokens and title."""
    calls, draw = [], minitransformers.plotting.plot_attention_grid

    def recording(attentions, tokens=None, **options):
        calls.append({"tokens": list(tokens), "title": options.get("title"), "layers": len(attentions)})
        return draw(attentions, tokens, **options)

    monkeypatch.setattr(minitransformers.plotting, "plot_attention_grid", recording)
    return calls


def test_the_demos_attention_picture_is_of_the_sentence_it_fills_in(drawn, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MINITRANSFORMERS_WEIGHTS", raising=False)
    folder = shipped_path("mini-bert-shakespeare")
    assert main(["demo", "--output-dir", str(tmp_path), "--max-new-tokens", "1", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert (tmp_path / "bert_attention.png").is_file()
    assert len(drawn) == 1, drawn
    tokenizer = load_tokenizer(folder)
    # The sentence as fill_mask reads it: cased, punctuated, with the mask token in the gap.
    text = demo.MASKED.replace("[MASK]", tokenizer.convert_ids_to_tokens(tokenizer.mask_token_id))
    expected = tokenizer.display_tokens(tokenizer(text)["input_ids"])
    assert drawn[0]["tokens"] == expected
    assert tokenizer.convert_ids_to_tokens(tokenizer.mask_token_id) in drawn[0]["tokens"]
    assert demo.MASKED in drawn[0]["title"] and "every layer and head" in drawn[0]["title"]
    assert f"on {demo.MASKED!r}" in printed and "bert_attention.png" in printed
