"""interpret/plots.py: every figure is slide-sized, has one colour bar, and shows special tokens readably."""

from __future__ import annotations

import pytest
import torch

from minitransformers import GPTConfig, GPTLMHeadModel
from minitransformers.interpret import (
    attention_patterns, direct_logit_attribution, logit_difference, logit_lens, patch_activations,
    previous_token_scores, sink_scores,
)
from minitransformers.interpret.plots import plot_head_scores, token_labels

MIN_PIXELS = 650  # 6.5 inches at 100 dpi


class _Tokenizer:
    """Token 1 is a newline and token 2 a lone space; the rest are words."""

    def display_tokens(self, ids):
        return [self.decode([i]) for i in ids]

    def decode(self, ids):
        return {1: "\n", 2: " "}.get(ids[0], f"w{ids[0]}")


@pytest.fixture(scope="module")
def gpt():
    config = GPTConfig(vocab_size=30, hidden_size=16, n_layers=2, n_heads=2, intermediate_size=32, max_positions=16)
    return GPTLMHeadModel(config).eval()


def _short_side(fig) -> float:
    return min(fig.get_size_inches()) * 100


def _colour_bars(fig) -> int:
    return sum(1 for ax in fig.axes if ax.get_label() == "<colorbar>")


def test_token_labels_show_newlines_and_spaces():
    assert token_labels(["\n", " ", "Ċ", "Ġking", "to"]) == ["⏎", "␣", "⏎", "king", "to"]


def test_every_figure_is_slide_sized_with_one_colour_bar(gpt):
    ids = torch.tensor([[3, 1, 4, 2, 5, 6]])
    corrupted = ids.clone()
    corrupted[0, 2] = 7
    lens = logit_lens(gpt, ids)
    patched = patch_activations(gpt, ids, corrupted, logit_difference(3, 4), kind="head_outputs")
    patterns = attention_patterns(gpt, ids)
    figures = {
        "lens": lens.plot(_Tokenizer(), target=5),
        "patching": patched.plot(_Tokenizer().display_tokens(ids[0].tolist())),
        "attribution": direct_logit_attribution(gpt, ids, 3, 4).plot(),
        "heads": plot_head_scores({"previous": previous_token_scores(patterns), "first": sink_scores(patterns, ids)}),
    }
    for name, fig in figures.items():
        assert _short_side(fig) >= MIN_PIXELS, name
        assert _colour_bars(fig) == 1, name
    lens_ticks = [label.get_text() for label in figures["lens"].axes[0].get_xticklabels()]
    assert lens_ticks[1] == "⏎" and lens_ticks[3] == "␣"
    patch_rows = [label.get_text() for label in figures["patching"].axes[0].get_yticklabels()]
    assert patch_rows[:3] == ["L0 H0", "L0 H1", "L1 H0"]


def test_head_scores_of_a_wide_model_wrap_into_rows():
    scores = {name: torch.rand(6, 12) for name in ("a", "b", "c")}
    fig = plot_head_scores(scores)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert len(visible) == 3 and fig.get_size_inches()[0] < 20
    with pytest.raises(ValueError, match="at least one"):
        plot_head_scores({})
