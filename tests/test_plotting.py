"""Plots show the data they were given, label it, say when they cut it, and save headless."""

import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from minitransformers.masks import causal_mask, padding_mask
from minitransformers.plotting import (
    notes_in,
    plot_attention,
    plot_attention_grid,
    plot_embedding_scatter,
    plot_head_entropy,
    plot_head_view,
    plot_mask,
    plot_mask_comparison,
    plot_rollout,
)
from minitransformers.plotting.head_view import MIN_WEIGHT

TOKENS = ["the", "cat", "sat", "on", "the", "mat"]


def _weights(*shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.softmax(3 * torch.randn(*shape, generator=generator), dim=-1)


def _tick_labels(axis):
    return [label.get_text() for label in axis.get_ticklabels()]


def _colour_bars(fig):
    return [ax for ax in fig.get_figure().axes if hasattr(ax, "_colorbar")]


def test_plot_mask_shows_the_mask_and_the_tokens():
    mask = causal_mask(6)
    fig = plot_mask(mask, TOKENS)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), mask.numpy().astype(int))
    assert _tick_labels(ax.xaxis) == TOKENS
    assert _tick_labels(ax.yaxis) == TOKENS
    assert notes_in(fig) == []


def test_plot_mask_accepts_a_padding_row_and_an_axes():
    fig = Figure()
    ax = fig.add_subplot(1, 1, 1)
    padding = padding_mask(torch.tensor([[1, 1, 1, 1, 0, 0]]))  # (1, 1, 1, 6)
    returned = plot_mask(padding, TOKENS, ax=ax)
    assert returned is fig and len(fig.axes) == 1
    expected = np.tile([1, 1, 1, 1, 0, 0], (6, 1))
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    with pytest.raises(ValueError, match="one token per position"):
        plot_mask(causal_mask(6), TOKENS[:4])
    with pytest.raises(ValueError, match=r"mask\[0, 0\]"):
        plot_mask(torch.ones(2, 3, 6, 6, dtype=torch.bool), TOKENS)


def test_mask_comparison_draws_the_four_masks():
    fig = plot_mask_comparison(TOKENS, padding=2)
    assert len(fig.axes) == 4
    t = len(TOKENS) + 2
    real = np.array([1] * len(TOKENS) + [0, 0])
    lower = np.tril(np.ones((t, t), dtype=int))
    expected = [np.ones((t, t), dtype=int), lower, np.tile(real, (t, 1)), lower * real]
    for ax, mask in zip(fig.axes, expected, strict=True):
        np.testing.assert_array_equal(ax.images[0].get_array(), mask)
        assert _tick_labels(ax.xaxis) == TOKENS + ["[PAD]", "[PAD]"]
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "BERT" in titles and "GPT" in titles
    # An explicit attention mask instead of appended pads.
    fig = plot_mask_comparison(TOKENS, padding=[1, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(fig.axes[2].images[0].get_array()[0], [1, 1, 1, 1, 1, 0])
    with pytest.raises(ValueError, match="one 0/1 value per token"):
        plot_mask_comparison(TOKENS, padding=[1, 0])


def test_long_inputs_are_cut_with_a_note():
    long_tokens = [f"t{i}" for i in range(100)]
    fig = plot_mask(causal_mask(100), long_tokens, max_tokens=64)
    assert fig.axes[0].images[0].get_array().shape == (64, 64)
    notes = notes_in(fig)
    assert any("first 64 x 64 of 100 x 100" in note for note in notes)
    assert any("tick labels left out" in note for note in notes)
    assert _tick_labels(fig.axes[0].xaxis) == []
    # Drawn whole but with too many labels: the labels go, the note says so.
    fig = plot_attention(_weights(60, 60), long_tokens[:60], max_tokens=None)
    assert fig.axes[0].images[0].get_array().shape == (60, 60)
    assert notes_in(fig) == ["Note: tick labels left out (60 key tokens > 48, 60 query tokens > 48)"]
    fig = plot_attention_grid([_weights(1, 2, 100, 100)], long_tokens, max_tokens=32)
    assert any("first 32 x 32" in note for note in notes_in(fig))
    fig = plot_head_view(_weights(100, 100), long_tokens, max_tokens=20)
    assert any("first 20 x 20" in note for note in notes_in(fig))


def test_plot_attention_one_head_with_colour_bar():
    weights = _weights(6, 6)
    fig = plot_attention(weights, TOKENS, title="layer 0, head 1")
    heat, colour_bar = fig.axes  # the second axes is the colour bar
    np.testing.assert_allclose(heat.images[0].get_array(), weights.numpy())
    assert _tick_labels(heat.xaxis) == TOKENS and _tick_labels(heat.yaxis) == TOKENS
    assert colour_bar.get_ylabel().startswith("attention weight")
    assert heat.get_title().split("\n") == ["layer 0, head 1", "input, 6 tokens: the cat sat on the mat"]
    keys = ["a", "b", "c"]
    fig = plot_attention(_weights(6, 3), TOKENS, keys)
    assert _tick_labels(fig.axes[0].xaxis) == keys


@pytest.mark.parametrize("n_layers, n_heads", [(2, 3), (12, 12)])
def test_attention_grid_has_layers_by_heads_axes(n_layers, n_heads):
    attentions = tuple(_weights(2, n_heads, 5, 5, seed=layer) for layer in range(n_layers))
    fig = plot_attention_grid(attentions, TOKENS[:5], example=1)
    assert len(fig.axes) == n_layers * n_heads + 1  # and one colour bar
    for layer in (0, n_layers - 1):
        for head in (0, n_heads - 1):
            ax = fig.axes[layer * n_heads + head]
            np.testing.assert_allclose(ax.images[0].get_array(), attentions[layer][1, head].numpy())
    assert (
        fig.axes[0].get_ylabel() == "layer 0"
        and fig.axes[n_heads - 1].get_title() == f"head {n_heads - 1}"
    )
    width, height = fig.get_size_inches()
    assert width <= 16.0  # a slide's width
    panel = fig.axes[0].get_window_extent()
    assert min(panel.width, panel.height) / fig.dpi >= 5 * 9 * 1.25 / 72 - 0.01  # 5 names at 9 pt fit


def test_attention_grid_subset_of_layers_and_heads():
    attentions = [_weights(1, 4, 5, 5, seed=layer) for layer in range(3)]
    fig = plot_attention_grid(attentions, layers=[2], heads=[1, 3], shared_scale=False)
    assert len(fig.axes) == 2
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), attentions[2][0, 3].numpy())


def test_head_view_line_opacity_is_the_weight(tmp_path):
    weights = _weights(2, 6, 6)
    fig = plot_head_view(weights, TOKENS)
    assert len(fig.axes) == 2  # one panel per head
    for head, ax in enumerate(fig.axes):
        (lines,) = ax.collections
        kept = weights[head][weights[head] >= MIN_WEIGHT]  # row-major, as the lines are drawn
        np.testing.assert_allclose(lines.get_colors()[:, 3], kept.numpy(), rtol=1e-6)
        texts = [text.get_text() for text in ax.texts]
        assert texts[:12] == TOKENS + TOKENS
    one = plot_head_view(weights, TOKENS, heads=[1], query=2)
    assert len(one.axes[0].collections[0].get_segments()) == int(
        (weights[1, 2] >= MIN_WEIGHT).sum()
    )
    for suffix in ("png", "pdf"):
        fig.savefig(tmp_path / f"head.{suffix}")
        assert (tmp_path / f"head.{suffix}").stat().st_size > 1000


def test_analysis_plots_show_their_data():
    rollout = _weights(6, 6)
    fig = plot_rollout(rollout, TOKENS, query=5)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), rollout.numpy())
    bars = [patch.get_height() for patch in fig.axes[1].patches]  # [2] is the colour bar
    np.testing.assert_allclose(bars, rollout[5].numpy(), rtol=1e-6)
    entropy = torch.rand(3, 4)
    fig = plot_head_entropy(entropy)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), entropy.numpy())
    assert (
        len(fig.axes[0].texts) == 12 and fig.axes[0].texts[0].get_text() == f"{entropy[0, 0]:.2f}"
    )


def test_embedding_scatter_colours_by_label_and_annotates():
    points = np.random.default_rng(0).normal(size=(30, 2))
    labels = ["bert"] * 10 + ["gpt"] * 20
    texts = [f"sentence {i}" for i in range(30)]
    fig = plot_embedding_scatter(points, labels, annotate=[3, 25], texts=texts)
    ax = fig.axes[0]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["bert", "gpt"]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), points[:10])
    numbers, key = [text.get_text() for text in ax.texts[:2]], ax.texts[2].get_text()
    assert numbers == ["1", "2"] and key == "1. sentence 3\n2. sentence 25"
    many = plot_embedding_scatter(torch.tensor(points), np.arange(30))  # numeric: a colour bar
    assert len(many.axes) == 2
    with pytest.raises(ValueError, match="shape \\(n, 2\\)"):
        plot_embedding_scatter(np.zeros((5, 3)))


def test_png_saving_works_headless(tmp_path):
    """In a fresh interpreter with no display and no backend chosen."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND", "WAYLAND_DISPLAY")
    }
    target = tmp_path / "mask.png"
    code = (
        "from minitransformers.plotting import plot_mask_comparison; import matplotlib; "
        f"plot_mask_comparison(['a', 'b', 'c']).savefig({str(target)!r}); "
        "print(matplotlib.get_backend())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stdout.strip().lower() == "agg"
    assert matplotlib.get_backend().lower() == "agg"  # and this test session is headless too


BYTE_LEVEL = ["Ġthe", "Ġcat", "Ġ", "Ċ", "sat", "[SEP]"]


def test_grid_names_the_tokens_on_its_outer_cells_only():
    attentions = [_weights(1, 3, 6, 6, seed=layer) for layer in range(2)]
    fig = plot_attention_grid(attentions, BYTE_LEVEL)
    readable = ["the", "cat", "␣", "⏎", "sat", "[SEP]"]
    bottom_left, top_right = fig.axes[3], fig.axes[2]
    assert _tick_labels(bottom_left.xaxis) == readable and _tick_labels(bottom_left.yaxis) == readable
    assert _tick_labels(top_right.xaxis) == [] and _tick_labels(top_right.yaxis) == []
    assert _tick_labels(fig.axes[0].yaxis) == readable and _tick_labels(fig.axes[0].xaxis) == []
    labels = [label for ax in fig.axes for label in _tick_labels(ax.xaxis) + _tick_labels(ax.yaxis)]
    assert not any("Ġ" in label or "Ċ" in label for label in labels)
    assert notes_in(fig) == []


def test_grid_with_many_tokens_numbers_positions_and_says_where_the_tokens_are():
    tokens = [f"w{i}" for i in range(30)]
    fig = plot_attention_grid([_weights(1, 2, 30, 30)], tokens)
    labels = _tick_labels(fig.axes[0].xaxis)
    assert labels and all(label.isdigit() for label in labels) and "w0" not in labels
    assert any("too many to name in every cell (> 24)" in note and "row k (query)" in note
               for note in notes_in(fig))
    assert _tick_labels(plot_attention_grid([_weights(1, 2, 30, 30)], tokens, max_labels=30).axes[0].xaxis)[0] == "w0"


def test_shared_scale_gives_one_colour_bar_and_says_so():
    faint, sharp = torch.full((1, 1, 4, 4), 0.25), torch.eye(4).reshape(1, 1, 4, 4)
    fig = plot_attention_grid([torch.cat([faint, sharp], dim=1)], TOKENS[:4])
    heads = fig.axes[:2]
    assert [image.get_clim() for ax in heads for image in ax.images] == [(0.0, 1.0), (0.0, 1.0)]
    assert len(fig.axes) == 3 and len(_colour_bars(fig)) == 1
    assert "one colour scale for all panels, 0 to 1.00" in fig._suptitle.get_text()
    own = plot_attention_grid([torch.cat([faint, sharp], dim=1)], TOKENS[:4], shared_scale=False)
    assert len(own.axes) == 2 and own.axes[0].images[0].get_clim() != own.axes[1].images[0].get_clim()
    assert _colour_bars(own) == [] and "each panel on its own colour scale" in own._suptitle.get_text()


def test_one_head_plots_show_readable_byte_level_tokens():
    fig = plot_attention(_weights(6, 6), BYTE_LEVEL)
    assert _tick_labels(fig.axes[0].xaxis) == ["the", "cat", "␣", "⏎", "sat", "[SEP]"]
    texts = [text.get_text() for text in plot_head_view(_weights(6, 6), BYTE_LEVEL).axes[0].texts]
    assert "the" in texts and "⏎" in texts and not any("Ġ" in text or "Ċ" in text for text in texts)


def test_scatter_numbers_at_most_a_few_points_and_lists_the_rest_in_the_key():
    points = np.random.default_rng(1).normal(size=(40, 2))
    fig = plot_embedding_scatter(points, annotate=list(range(12)), texts=[f"review {i}" for i in range(40)],
                                 max_annotations=5)
    ax = fig.axes[0]
    assert [text.get_text() for text in ax.texts[:5]] == ["1", "2", "3", "4", "5"]
    key = ax.texts[5].get_text().split("\n")
    assert key[:2] == ["1. review 0", "2. review 1"] and "7 more not numbered" in key[-1]
    with pytest.raises(IndexError, match="outside the 40 points"):
        plot_embedding_scatter(points, annotate=[40])


def test_two_grids_fit_side_by_side_in_sub_figures():
    fig = Figure(figsize=(12, 5))
    left, right = fig.subfigures(1, 2)
    plot_attention_grid([_weights(1, 2, 4, 4)], TOKENS[:4], fig=left, title="BERT")
    plot_attention_grid([_weights(1, 2, 4, 4, seed=1)], TOKENS[:4], fig=right, title="GPT")
    assert len(fig.axes) == 6  # 2 heads and a colour bar on each side
    assert left._suptitle.get_text().startswith("BERT") and right._suptitle.get_text().startswith("GPT")
    right_heads = [ax for ax in right.axes if ax.images and ax.get_title().startswith("head")]
    fig.canvas.draw()
    assert min(ax.get_window_extent().x0 for ax in right_heads) > fig.bbox.width / 2  # it stays on the right
