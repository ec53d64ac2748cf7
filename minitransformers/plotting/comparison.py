"""Two models (or more) side by side on one colour scale, with one colour bar: a slide for "BERT vs GPT".

Each model gets its own tokens, since BERT frames a sentence with ``<cls>``
and ``<sep>`` and GPT reads the bare text. The colours mean the same
number in every panel (``shared_scale=True``), so a brighter panel is a
sharper head, whichever model it belongs to.

- ``plot_attention_comparison``: the chosen layers and heads of each
  model, as grids (``plot_attention_grid``) in sub-figures.
- ``plot_rollout_comparison``: each model's attention rollout. Rollouts differ
  in range (BERT's spread near 1/t, GPT's piled near 1 on the first token),
  so ``shared_scale=False`` gives each panel its own scale and names both
  ranges in the titles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ._layout import (
    MAX_TOKENS, MAX_WIDTH, MIN_SIDE, TITLE_FONT, as_matrix, check_selection, check_tokens, cut,
    new_figure, short_label, style_colorbar,
)
from .analysis import ROLLOUT_AXES, ROLLOUT_LABEL
from .attention import map_size, plot_attention
from ._grid_layout import plan_grid
from .grid import GRID_MAX_LABELS, grid_heading, grid_notes, layer_list, plot_attention_grid


def _check_models(models: Mapping, what: str) -> list[tuple[str, object, Sequence[str] | None]]:
    """``{name: (values, tokens)}`` -> ``[(name, values, tokens)]``, with a clear error for anything else."""
    if not isinstance(models, Mapping) or not models:
        raise TypeError(f"pass the models as a dict {{name: ({what}, tokens)}}, e.g. "
                        f"{{'mini-BERT': (bert_{what}, bert_tokens), 'mini-GPT': (gpt_{what}, gpt_tokens)}}")
    entries = []
    for name, entry in models.items():
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise TypeError(f"models[{name!r}] must be a pair ({what}, tokens), got {type(entry).__name__}")
        entries.append((str(name), entry[0], entry[1]))
    return entries


def plot_attention_comparison(
    models: Mapping[str, tuple],
    *,
    layers: int | Sequence[int] | None = None,
    heads: int | Sequence[int] | None = None,
    example: int = 0,
    shared_scale: bool = True,
    max_tokens: int | None = MAX_TOKENS,
    max_labels: int = GRID_MAX_LABELS,
) -> Figure:
    """Attention grids of several models side by side: ``{name: (attentions, tokens)}``.

    ``layers``/``heads`` pick the same panels in every model (e.g.
    ``layers=[0, -1], heads=[0, 1]``: first and last layer, two heads: a
    slide). ``shared_scale=True``: every panel of every model on one colour
    scale, one colour bar at the right. ``fig.subfigs[i]`` holds model i.
    """
    entries = _check_models(models, "attentions")
    selected = []
    for name, attentions, tokens in entries:
        per_layer = layer_list(attentions, example)
        chosen_layers = check_selection(layers, len(per_layer), "layers")
        chosen_heads = check_selection(heads, per_layer[0].shape[0], "heads")
        t, s = per_layer[0].shape[-2:]
        labels = check_tokens(tokens, s, f"tokens of {name!r}")
        kept = cut(max(t, s), max_tokens)
        note = "\n".join(grid_notes(labels, (t, s), (cut(t, max_tokens), cut(s, max_tokens)), False, max_labels))
        selected.append((per_layer, chosen_layers, chosen_heads, kept, short_label(max(labels[:kept], key=len)),
                         note))
    vmax = None
    if shared_scale:
        vmax = max(float(per_layer[layer][head, :kept, :kept].max())
                   for per_layer, chosen_layers, chosen_heads, kept, _, _ in selected
                   for layer in chosen_layers for head in chosen_heads)

    def plans(cell: float | None, title_lines: int):
        return [plan_grid(len(chosen_layers), len(chosen_heads), kept, longest, max_labels=max_labels,
                          colorbar=shared_scale and k == len(entries) - 1, title_lines=title_lines,
                          note=note, cell=cell, max_width=MAX_WIDTH / len(entries))
                for k, (_, chosen_layers, chosen_heads, kept, longest, note) in enumerate(selected)]

    # One panel size and one title height for all, so that the grids line up; the titles wrap to
    # the widths, which follow the panel size, which follows the title height: settle in a few rounds.
    scale = "colours 0 to 1.00, the scale of the colour bar beside it"  # the longest scale line
    cell, title_lines = None, 3
    for _ in range(3):
        cell = min(plan.cell for plan in plans(cell, title_lines))
        sizes = [plan.size for plan in plans(cell, title_lines)]
        lines = max(grid_heading(name, tokens, scale, width).count("\n") + 1
                    for (name, _, tokens), (width, _) in zip(entries, sizes, strict=True))
        if lines == title_lines:
            break
        title_lines = lines
    fig = new_figure((sum(width for width, _ in sizes), max(MIN_SIDE, max(height for _, height in sizes))))
    parts = np.atleast_1d(fig.subfigures(1, len(entries), width_ratios=[width for width, _ in sizes]))
    for k, (part, (name, attentions, tokens)) in enumerate(zip(parts, entries, strict=True)):
        plot_attention_grid(attentions, tokens, fig=part, example=example, layers=layers, heads=heads,
                            max_tokens=max_tokens, shared_scale=shared_scale, vmax=vmax,
                            colorbar=shared_scale and k == len(entries) - 1, max_labels=max_labels,
                            title=name, cell_size=cell, title_lines=title_lines)
    return fig


def plot_rollout_comparison(
    models: Mapping[str, tuple],
    *,
    shared_scale: bool = True,
    max_tokens: int | None = MAX_TOKENS,
) -> Figure:
    """Attention rollouts of several models side by side: ``{name: (rollout, tokens)}``.

    ``rollout`` is one example's ``(t, s)``, e.g. ``attention_rollout(attentions)[0]``.
    ``shared_scale=True``: both panels from 0 to the largest value of either,
    with one colour bar; ``False``: each from 0 to its own largest value, with its own
    colour bar, the title giving each range (BERT's rollout, spread evenly, would be a
    uniform dark square on GPT's scale).
    """
    entries = _check_models(models, "rollout")
    matrices = [as_matrix(rollout, f"rollout of {name!r}", "pick one example, e.g. rollout[0]")
                for name, rollout, _ in entries]
    kept = [cut(max(matrix.shape), max_tokens) for matrix in matrices]
    vmax = max(float(matrix[:k, :k].max()) for matrix, k in zip(matrices, kept)) if shared_scale else None
    labels = [check_tokens(tokens, matrix.shape[1], f"tokens of {name!r}")
              for matrix, (name, _, tokens) in zip(matrices, entries, strict=True)]
    side, label_room = map_size(max(kept), max((label for names in labels for label in names), key=len))
    bars = 1.6 * (1 if shared_scale else len(entries))  # inches for the colour bars and their labels
    side = min(side, (MAX_WIDTH - bars) / len(entries) - label_room)
    fig = new_figure((len(entries) * (side + label_room) + bars, max(MIN_SIDE, side + label_room + 1.4)),
                     layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(entries)))
    # On its own scale each panel runs from 0 to its largest value: an even rollout (BERT's, near 1/t)
    # stays readable beside one that piles up on a token (GPT's first, near 1).
    tops = [float(matrix[:k, :k].max()) for matrix, k in zip(matrices, kept)]
    for ax, matrix, top, (name, _, tokens) in zip(axes, matrices, tops, entries, strict=True):
        title = f"{name}: rollout" + ("" if shared_scale else f", colours 0 to {top:.2f}")
        plot_attention(matrix, tokens, ax=ax, title=title, max_tokens=max_tokens, vmax=vmax or top,
                       colorbar=not shared_scale, value_label=ROLLOUT_LABEL, axis_labels=ROLLOUT_AXES)
    if shared_scale:
        style_colorbar(fig.colorbar(axes[-1].images[0], ax=list(axes), fraction=0.03, pad=0.02), ROLLOUT_LABEL)
        scale = f"one colour scale for all panels, 0 to {vmax:.2f} (colour bar)"
    else:
        ranges = ", ".join(f"{name} 0 to {top:.2f}" for (name, _, _), top in zip(entries, tops, strict=True))
        scale = f"each panel on its own colour scale ({ranges}): compare patterns, not brightness"
    fig.suptitle(f"Attention rollout through all layers\n{scale}", fontsize=TITLE_FONT)
    return fig
