"""The "model view": heat maps of many heads at once, layers as rows and heads as columns.

``layers=`` and ``heads=`` pick the panels (a slide holds about four; a
6 x 12 model has 72). Every panel shares one colour scale with one colour
bar, so a head that spreads its attention thinly looks faint, as it should
(``shared_scale=False`` gives each its own scale instead). Fonts follow the
panel size: the outer panels name the tokens when the names fit at
``MIN_FONT`` points; when they do not, the ticks number the positions and
a note under the grid says which token is which. One layer's heads (or one
head's layers) wrap onto several rows so the figure is not a thin strip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from ._grid_layout import GAP, GridLayout, plan_grid
from ._layout import (
    MAX_TOKENS, MIN_FONT, NOTE_PREFIX, TITLE_FONT, check_selection, check_tokens, cut, cut_note,
    describe_input, heading, new_figure, short_label, style_colorbar, wrap,
)
from .attention import ATTENTION_CMAP, ATTENTION_LABEL

GRID_MAX_LABELS = 24  # more tokens than this and a panel is too busy to name each one


def layer_list(attentions, example: int = 0) -> list[np.ndarray]:
    """Model ``attentions`` (``l`` tensors ``(b h t s)``, or ``(l b h t s)``, or ``(l h t s)``)
    -> ``l`` arrays ``(h t s)`` for one example."""
    layers = []
    for layer in attentions:
        array = layer.detach().cpu().float().numpy() if isinstance(layer, torch.Tensor) else layer
        array = np.asarray(array)
        if array.ndim == 4:
            if not -array.shape[0] <= example < array.shape[0]:
                raise IndexError(f"example={example} is not in the batch of {array.shape[0]}; "
                                 f"pick 0..{array.shape[0] - 1}")
            array = array[example]
        if array.ndim != 3:
            raise ValueError(f"each layer's attention must be (batch, heads, t, s) or "
                             f"(heads, t, s), got shape {tuple(array.shape)}")
        layers.append(array)
    if not layers:
        raise ValueError("attentions is empty; pass output.attentions from a model run with output_attentions=True")
    return layers


def plot_attention_grid(
    attentions: Sequence[torch.Tensor] | torch.Tensor,
    tokens: Sequence[str] | None = None,
    fig: Figure | SubFigure | None = None,
    *,
    example: int = 0,
    layers: int | Sequence[int] | None = None,
    heads: int | Sequence[int] | None = None,
    max_tokens: int | None = MAX_TOKENS,
    shared_scale: bool = True,
    vmax: float | None = None,
    colorbar: bool = True,
    max_labels: int = GRID_MAX_LABELS,
    title: str | None = None,
    cell_size: float | None = None,
    title_lines: int = 0,
) -> Figure | SubFigure:
    """Heat maps of the chosen heads of the chosen layers, one colour scale, one colour bar.

    ``attentions`` is what a model returns with ``output_attentions=True``
    (or ``cache.attention_weights()``); ``example`` picks the batch row.
    ``layers``/``heads``: the indices to draw (default all; -1 is the last),
    e.g. ``layers=[0, -1], heads=[0, 1]`` for a slide. ``fig.axes[i]`` is
    the i-th (layer, head) pair in that order, layer-major (the colour bar,
    if any, comes last). ``fig`` may be a sub-figure (``fig.subfigures``),
    to put two models side by side; ``plot_attention_comparison`` does that
    with one scale for both.

    ``shared_scale=True`` colours every panel from 0 to ``vmax`` (default:
    the largest weight shown) with one colour bar (``colorbar=False``: none,
    for a bar drawn elsewhere); ``False`` gives each panel its own scale, to
    see the pattern of a faint head. The title says which, and on what input.
    ``cell_size`` caps a panel's side (inches); ``title_lines`` reserves at
    least that many lines for the title, so grids side by side line up.
    """
    per_layer = layer_list(attentions, example)
    layers = check_selection(layers, len(per_layer), "layers")
    heads = check_selection(heads, per_layer[0].shape[0], "heads")
    t, s = per_layer[0].shape[-2:]
    names = check_tokens(tokens, s, "tokens")
    kept_t, kept_s = cut(t, max_tokens), cut(s, max_tokens)
    labels = [short_label(name) for name in names[:max(kept_t, kept_s)]]
    pairs = [(layer, head) for layer in layers for head in heads]
    values = [per_layer[layer][head, :kept_t, :kept_s] for layer, head in pairs]
    if shared_scale and vmax is None:
        vmax = max(float(value.max()) for value in values)
    colorbar = colorbar and shared_scale
    if not shared_scale:
        scale = "each panel on its own colour scale: compare patterns, not brightness"
    elif colorbar:
        scale = f"one colour scale for all panels, 0 to {vmax:.2f} (colour bar)"
    else:
        scale = f"colours 0 to {vmax:.2f}, the scale of the colour bar beside it"
    space = None if fig is None else (fig.bbox.width / fig.dpi, fig.bbox.height / fig.dpi)
    unnamed_note = "\n".join(grid_notes(names, (t, s), (kept_t, kept_s), False, max_labels))
    lines = max(2, title_lines)
    for _ in range(3):  # the title wraps to the figure's width, and its height sets the top margin
        plan = plan_grid(len(layers), len(heads), max(kept_t, kept_s), max(labels, key=len),
                         max_labels=max_labels, colorbar=colorbar, title_lines=lines,
                         note=unnamed_note, cell=cell_size, space=space)
        text = grid_heading(title, tokens, scale, plan.size[0] if space is None else space[0])
        if max(title_lines, text.count("\n") + 1) == lines:
            break
        lines = max(title_lines, text.count("\n") + 1)
    if fig is None:
        fig = new_figure(plan.size)
    width, height = fig.bbox.width / fig.dpi, fig.bbox.height / fig.dpi  # a sub-figure: its own part
    grid = fig.subplots(plan.rows, plan.columns, squeeze=False).ravel()
    for ax in grid[len(pairs):]:
        fig.delaxes(ax)  # a wrapped grid's empty places
    for index, ((layer, head), value) in enumerate(zip(pairs, values, strict=True)):
        ax = grid[index]
        image = ax.imshow(value, cmap=ATTENTION_CMAP, vmin=0.0, vmax=vmax if shared_scale else None,
                          interpolation="nearest")
        row, column = divmod(index, plan.columns)
        _outer_ticks(ax, labels, kept_t, kept_s, plan, first_column=column == 0,
                     bottom=index + plan.columns >= len(pairs))
        if plan.wrapped:
            ax.set_title(f"layer {layer}, head {head}", fontsize=plan.panel_font)
        elif row == 0:
            ax.set_title(f"head {head}", fontsize=plan.panel_font)
        if column == 0 and not plan.wrapped:
            ax.set_ylabel(f"layer {layer}", fontsize=plan.panel_font)

    # The panels hang from the title, centred across: grids side by side line up at the top.
    block_width = plan.cell * (plan.columns + GAP * (plan.columns - 1))
    block_height = plan.cell * (plan.rows + GAP * (plan.rows - 1)) + plan.title_gap * (plan.rows - 1)
    left = plan.left + max(0.0, width - plan.left - plan.right - block_width) / 2
    fig.subplots_adjust(left=left / width, right=(left + block_width) / width, top=1 - plan.top / height,
                        bottom=1 - (plan.top + block_height) / height, wspace=GAP,
                        hspace=GAP + plan.title_gap / plan.cell)
    if colorbar:
        bar = fig.add_axes(((left + block_width + 0.25) / width, 1 - (plan.top + block_height) / height,
                            0.2 / width, block_height / height))
        style_colorbar(fig.colorbar(image, cax=bar), ATTENTION_LABEL.replace(" (", "\n("))
    fig.suptitle(text, fontsize=TITLE_FONT, y=1 - 0.1 / height, va="top")
    notes = grid_notes(names, (t, s), (kept_t, kept_s), plan.labelled, max_labels)
    if notes:
        fig.text(0.01, 0.01, wrap("\n".join(notes), width - 0.3), fontsize=MIN_FONT, color="dimgray",
                 va="bottom")
    return fig


def grid_heading(title: str | None, tokens: Sequence[str] | None, scale: str, width: float) -> str:
    """A grid's title: what it shows, on what input (wrapped to ``width`` inches), on which scale."""
    described = describe_input(tokens)
    return heading(f"{title or 'Attention weights'} (rows: queries, columns: keys)",
                   described and wrap(described, width - 0.4, TITLE_FONT), scale)


def grid_notes(names: list[str], shape: tuple[int, int], kept: tuple[int, int], labelled: bool,
           max_labels: int) -> list[str]:
    """Why the token names are missing (and which position is which token), and whether it was cut."""
    notes = []
    if not labelled:
        key = "  ".join(f"{k}:{name}" for k, name in enumerate(names[:max(kept)]))
        why = f"> {max_labels}" if max(kept) > max_labels else "too many for panels this size"
        notes.append(f"{NOTE_PREFIX} {max(kept)} tokens are too many to name in every cell ({why}): the "
                     f"outer ticks number the positions, token k is row k (query) and column k (key):  "
                     f"{key}.  Pick fewer panels with layers=/heads=, or zoom in on one head with "
                     f"plot_attention(attentions[layer][0, head], tokens).")
    cut_message = cut_note(shape, kept)
    if cut_message:
        notes.append(cut_message)
    return notes


def _outer_ticks(ax: Axes, labels: list[str], t: int, s: int, plan: GridLayout, *, first_column: bool,
                 bottom: bool) -> None:
    """Token names (or position numbers) on the outer panels of the grid only; none inside."""
    if plan.labelled:
        ax.set_xticks(range(s) if bottom else [], labels[:s] if bottom else [], rotation=90,
                      fontsize=plan.tick_font)
        ax.set_yticks(range(t) if first_column else [], labels[:t] if first_column else [],
                      fontsize=plan.tick_font)
    else:
        step = max(1, math.ceil(max(t, s) * 2.0 * MIN_FONT / (72 * plan.cell)))
        for axis, n, shown in ((ax.xaxis, s, bottom), (ax.yaxis, t, first_column)):
            # No number in the last half step: it would run into the next panel's 0.
            positions = [k for k in range(0, n, step) if k == 0 or k <= n - 1 - step / 2] if shown else []
            axis.set_ticks(positions, [str(k) for k in positions], fontsize=plan.tick_font)
    ax.tick_params(length=2, pad=1.5)

