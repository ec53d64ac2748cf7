"""Rollouts of BERT and GPT side by side: each panel readable on its own scale, and the title says the scales.

A bidirectional model's rollout is spread over every token (values near 1/t),
a causal one's piles up on the first token (near 1): on one 0-to-1 scale the
first is a uniform dark square (issue 35, item 16).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from minitransformers.plotting import plot_rollout_comparison

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def _rollouts() -> dict:
    t = 8
    spread = torch.full((t, t), 1 / t) + 0.04 * torch.eye(t)           # BERT-like: 0.125 to 0.165
    spread = spread / spread.sum(dim=-1, keepdim=True)
    causal = torch.ones(t, t).tril()
    causal[:, 0] += torch.arange(t) * 2.0                               # GPT-like: the first token gathers
    causal = causal / causal.sum(dim=-1, keepdim=True)
    return {"mini-BERT": (spread, [f"b{i}" for i in range(t)]), "mini-GPT": (causal, [f"g{i}" for i in range(t)])}


def test_on_its_own_scale_each_panel_spans_its_colours_and_the_title_gives_each_range():
    rollouts = _rollouts()
    fig = plot_rollout_comparison(rollouts, shared_scale=False)
    panels = [ax for ax in fig.axes if ax.images]
    for ax, (name, (rollout, _)) in zip(panels, rollouts.items()):
        image = ax.images[0]
        shades = image.norm(np.asarray(image.get_array()))
        assert float(shades.max()) > 0.99, f"{name}'s brightest cell is not at the top of its scale"
        assert image.get_clim() == (0.0, float(rollout.max()))
        assert f"0 to {float(rollout.max()):.2f}" in ax.get_title()
    heading = fig._suptitle.get_text()
    assert "own colour scale" in heading
    for name, (rollout, _) in rollouts.items():
        assert f"{name} 0 to {float(rollout.max()):.2f}" in heading


def test_on_one_scale_the_spread_panel_would_be_a_dark_square():
    # Why 04b draws each panel on its own scale: on the shared one BERT's cells use a sliver of the colours.
    fig = plot_rollout_comparison(_rollouts())
    bert = next(ax for ax in fig.axes if ax.images).images[0]
    shades = bert.norm(np.asarray(bert.get_array()))
    assert float(shades.max() - shades.min()) < 0.1


def test_notebook_04b_draws_each_rollout_on_its_own_scale():
    notebook = json.loads((NOTEBOOKS_DIR / "04b_bert_and_gpt_side_by_side.ipynb").read_text(encoding="utf-8"))
    calls = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"
             and "plot_rollout_comparison(" in "".join(cell["source"]) and "import" not in "".join(cell["source"])]
    assert calls and all("shared_scale=False" in call for call in calls), calls
