"""The logit lens heat map with a target: a scale that shows a target whose probability stays small.

Notebook 8's mini-BERT gives its hidden word a probability of at most 0.044
at any layer while its rank climbs from 296 to 1: on a 0-to-1 probability
scale the map is blank (issue 35, item 15). With a target the colour is its
rank, on a log scale, and the title and the colour bar say so.
"""

from __future__ import annotations

import numpy as np
import torch

from minitransformers.interpret.logit_lens import LogitLens
from minitransformers.interpret.plots import plot_logit_lens

VOCAB, TARGET = 500, 7


class _Tokenizer:
    def display_tokens(self, ids):
        return [f"t{i}" for i in ids]

    def decode(self, ids):
        return f"w{ids[0]}"


def _lens() -> LogitLens:
    """4 readings x 3 positions; the target's rank falls from 301 to 2 while its probability stays under 0.05."""
    logits = torch.zeros(4, 1, 3, VOCAB)
    logits[..., 100] = 4.0  # one token far ahead, so that every probability but its own stays small
    for layer, rank in enumerate((300, 60, 9, 1)):
        logits[layer, 0, :, 200:200 + rank] = 0.2   # `rank` tokens above the target...
        logits[layer, 0, :, TARGET] = 0.1           # ...the target just below them
    logits[3, 0, :, 100] = 0.3                      # at the last reading, token 100 barely ahead
    return LogitLens(logits, [0, 1, 2], torch.tensor([[1, 2, 3]]), ["embeddings", "after 0", "after 1", "after 2"],
                     "bert")


def test_the_target_is_coloured_by_its_rank_on_a_log_scale_and_the_map_is_not_blank():
    lens = _lens()
    assert float(lens.target_probability(TARGET).max()) < 0.05
    fig = plot_logit_lens(lens, _Tokenizer(), target=TARGET)
    heat = next(ax for ax in fig.axes if ax.images)
    image = heat.images[0]
    shades = image.norm(np.asarray(image.get_array(), dtype=float))
    assert float(shades.max() - shades.min()) > 0.5, "the colours barely change: the map reads as blank"
    ranks = lens.target_rank(TARGET)[:, 0].numpy()
    # The best rank gets the strongest colour: the target's top readings stand out.
    assert np.allclose(np.asarray(image.get_array()), ranks + 1)  # rank 0 (the top guess) at the log scale's 1
    bars = [ax for ax in fig.axes if ax is not heat]
    assert len(bars) == 1 and "rank" in bars[0].get_ylabel() and "log" in bars[0].get_ylabel()
    assert "rank" in heat.get_title() and "log scale" in heat.get_title()


def test_a_title_given_by_the_caller_still_says_the_scale():
    fig = plot_logit_lens(_lens(), _Tokenizer(), target=TARGET, title="mini-BERT on a famous line")
    heat = next(ax for ax in fig.axes if ax.images)
    assert heat.get_title().startswith("mini-BERT on a famous line") and "log scale" in heat.get_title()


def test_without_a_target_the_colour_is_the_top_guess_probability_from_0_to_1():
    fig = plot_logit_lens(_lens(), _Tokenizer())
    heat = next(ax for ax in fig.axes if ax.images)
    assert heat.images[0].get_clim() == (0.0, 1.0) and "probability of the top guess" in heat.get_title()
