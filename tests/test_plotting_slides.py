"""Figures fit a slide: 600 px or more on the short side, text of 9 pt or more that does not overlap,
titles that say on what input, panels picked with layers=/heads=, one colour bar per shared scale."""

import io
import struct

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from minitransformers.inspection import attention_rollout
from minitransformers.masks import causal_mask
from minitransformers.plotting import (
    notes_in,
    plot_attention,
    plot_attention_comparison,
    plot_attention_grid,
    plot_embedding_scatter,
    plot_head_entropy,
    plot_head_view,
    plot_mask,
    plot_mask_comparison,
    plot_rollout,
    plot_rollout_comparison,
)
from minitransformers.plotting._tokens import readable_token
from minitransformers.plotting.head_view import HEAD_COLOURS

# "To be, or not to be: that is the question." as mini-BERT and mini-GPT read it (byte-level BPE).
BERT_TOKENS = ["<cls>", "To", "Ġbe", ",", "Ġor", "Ġnot", "Ġto", "Ġbe", ":", "Ġthat", "Ġis", "Ġthe",
               "Ġquestion", ".", "<sep>"]
GPT_TOKENS = ["To", "Ġbe", ",", "Ġor", "Ġnot", "Ġto", "Ġbe", ":", "Ġthat", "Ġis", "Ġthe", "Ġquestion",
              ".", "Ċ", "Ay", ",", "Ġthere", "'s", "Ġthe", "Ġru", "b"]
SMALLEST_SIDE_PX, WIDEST_PX, SMALLEST_POINTS = 600, 1600, 9.0


def _attentions(n_layers, n_heads, t, causal=False, seed=0):
    """``n_layers`` tensors ``(1, h, t, t)`` of softmax weights, peaked like trained heads."""
    generator = torch.Generator().manual_seed(seed)
    scores = 4 * torch.randn(n_layers, 1, n_heads, t, t, generator=generator)
    if causal:
        scores = scores.masked_fill(~causal_mask(t), float("-inf"))
    return list(torch.softmax(scores, dim=-1))


BERT = _attentions(6, 6, len(BERT_TOKENS))
GPT = _attentions(6, 6, len(GPT_TOKENS), causal=True, seed=1)
WIDE = _attentions(6, 12, len(GPT_TOKENS), causal=True, seed=2)


def _rollout(attentions):
    return attention_rollout(attentions)[0]


FIGURES = {  # name: (make the figure, the input its title must name, or None)
    "one head": (lambda: plot_attention(GPT[2][0, 3], GPT_TOKENS, title="layer 2, head 3"), GPT_TOKENS),
    "grid 6x6": (lambda: plot_attention_grid(BERT, BERT_TOKENS), BERT_TOKENS),
    "grid 6x6 numbered": (lambda: plot_attention_grid(GPT, GPT_TOKENS), GPT_TOKENS),
    "grid 6x12": (lambda: plot_attention_grid(WIDE, GPT_TOKENS), GPT_TOKENS),
    "grid 2x2": (lambda: plot_attention_grid(GPT, GPT_TOKENS, layers=[0, 5], heads=[0, 1]), GPT_TOKENS),
    "grid one layer": (lambda: plot_attention_grid(GPT, GPT_TOKENS, layers=2), GPT_TOKENS),
    "grid one head": (lambda: plot_attention_grid(BERT, BERT_TOKENS, heads=[3]), BERT_TOKENS),
    "grid one panel": (lambda: plot_attention_grid(BERT, BERT_TOKENS, layers=0, heads=0), BERT_TOKENS),
    "comparison": (lambda: plot_attention_comparison({"mini-BERT": (BERT, BERT_TOKENS), "mini-GPT": (
        GPT, GPT_TOKENS)}, layers=[0, 5], heads=[0, 1]), BERT_TOKENS),
    "head view": (lambda: plot_head_view(GPT[5][0], GPT_TOKENS), GPT_TOKENS),
    "head view one head": (lambda: plot_head_view(GPT[5][0], GPT_TOKENS, heads=[1]), GPT_TOKENS),
    "rollout": (lambda: plot_rollout(_rollout(GPT), GPT_TOKENS), GPT_TOKENS),
    "rollout and row": (lambda: plot_rollout(_rollout(GPT), GPT_TOKENS, query=20), GPT_TOKENS),
    "rollout comparison": (lambda: plot_rollout_comparison({"mini-BERT": (_rollout(BERT), BERT_TOKENS),
                                                            "mini-GPT": (_rollout(GPT), GPT_TOKENS)}),
                           GPT_TOKENS),
    # 04b's: each panel on its own scale, the figure title naming both ranges
    "rollout comparison, own scales": (lambda: plot_rollout_comparison(
        {"mini-BERT": (_rollout(BERT), BERT_TOKENS), "mini-GPT": (_rollout(GPT), GPT_TOKENS)}, shared_scale=False),
        GPT_TOKENS),
    "entropy 6x6": (lambda: plot_head_entropy(torch.rand(6, 6) * 2, tokens=GPT_TOKENS), GPT_TOKENS),
    "entropy 12x12": (lambda: plot_head_entropy(torch.rand(12, 12) * 2), None),
    "mask": (lambda: plot_mask(causal_mask(len(GPT_TOKENS)), GPT_TOKENS), None),
    "mask comparison": (lambda: plot_mask_comparison(["the", "cat", "sat", "down"]),
                        ["the", "cat", "sat", "down", "[PAD]", "[PAD]"]),
    "scatter": (lambda: plot_embedding_scatter(np.random.default_rng(0).normal(size=(40, 2)),
                                               ["bert"] * 20 + ["gpt"] * 20, annotate=[1, 30]), None),
}


def _png_size(fig):
    """Pixel width and height of the PNG Jupyter shows (``bbox_inches="tight"``, at the figure's dpi)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return struct.unpack(">II", buffer.getvalue()[16:24])


def _texts(fig):
    """Every piece of text drawn: titles, labels, tick labels, notes, legends, annotations."""
    figures = [fig, *fig.subfigs]
    texts = [text for figure in figures for text in figure.texts]
    texts += [figure._suptitle for figure in figures if figure._suptitle is not None]
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        texts += ax.get_xticklabels() + ax.get_yticklabels()
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
    texts += [text for legend in fig.legends for text in legend.get_texts()]
    unique = {id(text): text for text in texts}  # a suptitle is in its figure's texts as well
    return [text for text in unique.values() if text.get_visible() and text.get_text().strip()]


def _overlaps(texts, renderer):
    """Pairs of texts whose boxes overlap by more than 2 px each way."""
    boxes = [text.get_window_extent(renderer) for text in texts]
    pairs = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 2 and min(a.y1, b.y1) - max(a.y0, b.y0) > 2:
                pairs.append((texts[i].get_text()[:30], texts[j].get_text()[:30]))
    return pairs


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FIGURES))
def test_every_figure_fits_a_slide_with_readable_text(name):
    make, input_tokens = FIGURES[name]
    fig = make()
    width, height = _png_size(fig)
    assert min(width, height) >= SMALLEST_SIDE_PX, f"{name}: {width} x {height} px"
    assert width <= WIDEST_PX * 1.03, f"{name}: {width} px wide"
    shrink = min(1.0, WIDEST_PX / width)  # shown on a slide, a wider figure is scaled down
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # lays the figure out as the PNG was
    texts = _texts(fig)
    smallest = min(texts, key=lambda text: text.get_fontsize())
    assert smallest.get_fontsize() * shrink >= SMALLEST_POINTS, (name, smallest.get_text())
    assert _overlaps(texts, canvas.get_renderer()) == []
    if input_tokens is not None:
        titles = "\n".join(text.get_text() for text in texts if "input, " in text.get_text())
        assert f"input, {len(input_tokens)} tokens: {readable_token(input_tokens[0])}" in titles


def test_layers_and_heads_pick_the_panels_in_order():
    fig = plot_attention_grid(GPT, GPT_TOKENS, layers=[4, -1], heads=[2, 0])
    panels = [ax for ax in fig.axes if ax.images]
    picked = [(4, 2), (4, 0), (5, 2), (5, 0)]
    assert len(panels) == 4 and len(fig.axes) == 5  # and one colour bar
    for ax, (layer, head) in zip(panels, picked, strict=True):
        np.testing.assert_allclose(ax.images[0].get_array(), GPT[layer][0, head].numpy())
    assert [ax.get_title() for ax in panels[:2]] == ["head 2", "head 0"]
    assert [panels[0].get_ylabel(), panels[2].get_ylabel()] == ["layer 4", "layer 5"]
    # One layer's six heads wrap onto two rows of three, each panel named, no empty axes left.
    one_layer = plot_attention_grid(GPT, GPT_TOKENS, layers=2, heads=[0, 1, 2, 3, 4])
    titles = [ax.get_title() for ax in one_layer.axes if ax.images]
    assert titles == [f"layer 2, head {head}" for head in range(5)] and len(one_layer.axes) == 6


@pytest.mark.parametrize("call, message", [
    (lambda: plot_attention_grid(GPT, layers=[6]), r"layers=\[6\]: 6 is not one of the 6 layers 0..5"),
    (lambda: plot_attention_grid(GPT, heads=[-7]), r"-7 is not one of the 6 heads 0..5"),
    (lambda: plot_attention_grid(GPT, layers=[]), r"layers=\[\] selects nothing"),
    (lambda: plot_attention_grid(GPT, heads=["0"]), r"'0' is not one of the 6 heads"),
    (lambda: plot_attention_grid(GPT, example=1), r"example=1 is not in the batch of 1"),
    (lambda: plot_head_view(GPT[0][0], heads=[6]), r"heads=\[6\]: 6 is not one of the 6 heads"),
    (lambda: plot_attention_comparison({"a": (GPT, None)}, layers=[9]), r"9 is not one of the 6 layers"),
    (lambda: plot_attention_comparison([GPT]), r"pass the models as a dict"),
    (lambda: plot_rollout(_rollout(GPT), query=21), r"query=21 is not a position of this rollout"),
])
def test_bad_selections_get_a_one_line_error(call, message):
    with pytest.raises((ValueError, IndexError, TypeError), match=message) as error:
        call()
    assert "\n" not in str(error.value)


def test_a_shared_scale_has_exactly_one_colour_bar():
    models = {"mini-BERT": (BERT, BERT_TOKENS), "mini-GPT": (GPT, GPT_TOKENS)}
    fig = plot_attention_comparison(models, layers=[0, 5], heads=[0, 1])
    panels = [ax for ax in fig.axes if ax.images]
    bars = [ax for ax in fig.axes if hasattr(ax, "_colorbar")]
    assert len(panels) == 8 and len(bars) == 1
    largest = max(float(GPT[layer][0, head].max()) for layer in (0, 5) for head in (0, 1))
    largest = max(largest, *(float(BERT[layer][0, head].max()) for layer in (0, 5) for head in (0, 1)))
    assert {ax.images[0].get_clim() for ax in panels} == {(0.0, largest)}
    own = plot_attention_comparison(models, layers=[0], heads=[0, 1], shared_scale=False)
    assert not [ax for ax in own.axes if hasattr(ax, "_colorbar")]
    rollouts = {"mini-BERT": (_rollout(BERT), BERT_TOKENS), "mini-GPT": (_rollout(GPT), GPT_TOKENS)}
    shared = plot_rollout_comparison(rollouts)
    assert len([ax for ax in shared.axes if hasattr(ax, "_colorbar")]) == 1
    assert len({ax.images[0].get_clim() for ax in shared.axes if ax.images}) == 1
    separate = plot_rollout_comparison(rollouts, shared_scale=False)
    assert len([ax for ax in separate.axes if hasattr(ax, "_colorbar")]) == 2


def test_rollout_is_labelled_as_rollout_and_can_share_a_scale():
    fig = plot_rollout(_rollout(GPT), GPT_TOKENS, vmax=0.5)
    heat, bar = fig.axes
    assert bar.get_ylabel().startswith("rollout") and heat.images[0].get_clim() == (0.0, 0.5)
    assert not any("attention weight" in text.get_text() for text in _texts(fig))
    assert heat.get_title().startswith("Attention rollout through all layers")


def test_fonts_follow_the_panel_and_crowded_grids_number_the_positions():
    def tick_font(fig):
        return fig.axes[0].get_yticklabels()[0].get_fontsize()

    one = plot_attention_grid(BERT, BERT_TOKENS, layers=0, heads=0)
    four = plot_attention_grid(BERT, BERT_TOKENS, layers=[0, 1], heads=[0, 1])
    assert tick_font(one) > tick_font(four) >= SMALLEST_POINTS
    assert [label.get_text() for label in four.axes[0].get_yticklabels()][:3] == ["<cls>", "To", "be"]
    crowded = plot_attention_grid(WIDE, GPT_TOKENS)  # 72 panels of 21 tokens: names would not fit
    labels = [label.get_text() for label in crowded.axes[0].get_yticklabels()]
    assert labels and all(label.isdigit() for label in labels) and tick_font(crowded) >= SMALLEST_POINTS
    (note,) = notes_in(crowded)
    assert "13:⏎" in note and "0:To" in note and "layers=/heads=" in note


def test_head_view_gives_each_head_its_own_panel_and_colour():
    fig = plot_head_view(GPT[5][0], GPT_TOKENS, heads=[0, 3, 5])
    assert len(fig.axes) == 3
    for ax, head in zip(fig.axes, [0, 3, 5], strict=True):
        (lines,) = ax.collections
        colours = {tuple(np.round(colour[:3], 4)) for colour in lines.get_colors()}
        assert colours == {tuple(np.round(to_rgb(HEAD_COLOURS[head]), 4))}  # nothing blends
        assert ax.get_title() == f"head {head}" and ax.title.get_color() == HEAD_COLOURS[head]


@pytest.mark.parametrize("token, shown", [
    ("Ċ", "⏎"), ("\n", "⏎"), ("ĊĊ", "⏎⏎"), ("↵", "⏎"), ("Ġ", "␣"), (" ", "␣"), ("  ", "␣␣"),
    ("Ġking", "king"), ("ĠĊ", "␣⏎"), ("\t", "⇥"), ("[SEP]", "[SEP]"), ("##ing", "##ing"),
])
def test_tokens_are_shown_readable_never_blank(token, shown):
    assert readable_token(token) == shown


def test_character_level_newlines_and_spaces_are_labelled_in_every_plot():
    characters = ["T", "o", " ", "b", "e", "\n"]
    weights = _attentions(1, 2, 6, causal=True)
    expected = ["T", "o", "␣", "b", "e", "⏎"]
    assert [label.get_text() for label in plot_mask(causal_mask(6), characters).axes[0].get_xticklabels()] == expected
    grid = plot_attention_grid(weights, characters)
    assert [label.get_text() for label in grid.axes[0].get_yticklabels()] == expected
    view = plot_head_view(weights[0][0, 0], characters)
    assert [text.get_text() for text in view.axes[0].texts][:6] == expected


def test_the_notebook_calls_of_before_still_draw():
    """Notebook 04 drew two grids in sub-figures, head views and rollouts on its own axes."""
    fig = Figure(figsize=(2 * (1.35 * 6 + 1.8), 1.35 * 6 + 1.6))
    left, right = fig.subfigures(1, 2)
    plot_attention_grid(BERT, BERT_TOKENS, fig=left, title="mini-BERT: bidirectional")
    plot_attention_grid(GPT, GPT_TOKENS, fig=right, title="mini-GPT: causal")
    assert len([ax for ax in fig.axes if ax.images]) == 72
    fig = Figure(figsize=(10, 5.5))
    for ax, attentions, tokens in zip(fig.subplots(1, 2), (BERT, GPT), (BERT_TOKENS, GPT_TOKENS)):
        plot_head_view(attentions[-1][0], tokens, ax=ax, title="last layer, every head")
    assert [len(ax.child_axes) for ax in fig.axes] == [6, 6]  # six heads on each side, in panels
    fig = Figure(figsize=(12, 5.5))
    for ax, attentions, tokens in zip(fig.subplots(1, 2), (BERT, GPT), (BERT_TOKENS, GPT_TOKENS)):
        plot_rollout(_rollout(attentions), tokens, axes=[ax])
    fig.savefig(io.BytesIO(), format="png")
