"""Pictures of attention masks: who may look at whom.

Rows are *queries* (the token doing the looking), columns are *keys* (the
tokens it may look at). A filled cell means "may attend" (``True`` in the
library's mask convention, see ``minitransformers.masks``).

``plot_mask_comparison`` draws the four masks that separate BERT from GPT
for one sentence:

- bidirectional (BERT): a full square, every token sees every token;
- causal (GPT): a lower triangle, token ``i`` sees tokens ``0..i`` only;
- padding (BERT on a padded batch): the ``[PAD]`` *columns* are empty, no
  token may read a pad (the pad rows still read real tokens, but their
  outputs are ignored by the loss);
- causal + padding (GPT on a padded batch): both at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..masks import bidirectional_mask, causal_mask, combine_masks, padding_mask
from ._layout import (
    LABEL_FONT, MAX_FONT, MAX_TICK_LABELS, MAX_TOKENS, TITLE_FONT, add_note, as_matrix, check_tokens, cut,
    cut_note, describe_input, figure_and_ax, fit_font, heading, new_figure, set_token_ticks, text_inches,
    wrap,
)
from .attention import map_size

HIDDEN_COLOUR = "#eeeeee"
ALLOWED_COLOUR = "#2b6cb0"
MASK_CMAP = ListedColormap([HIDDEN_COLOUR, ALLOWED_COLOUR])  # 0 = hidden, 1 = may attend


def plot_mask(
    mask: torch.Tensor | np.ndarray,
    tokens: Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    key_tokens: Sequence[str] | None = None,
    title: str | None = None,
    max_tokens: int | None = MAX_TOKENS,
    max_tick_labels: int | None = MAX_TICK_LABELS,
) -> Figure:
    """Draw a boolean mask ``(t, s)`` as a grid: filled = may attend, pale = hidden.

    ``tokens`` label the query rows (and the key columns unless
    ``key_tokens`` is given). Masks with leading size-1 dimensions, like
    ``padding_mask(...)[0]`` of shape ``(1, 1, s)``, are accepted; a single
    row ``(1, s)`` is repeated for every query token. The image data is the
    mask as 0/1 integers, so ``fig.axes[0].images[0].get_array()`` equals it.
    """
    matrix = as_matrix(mask, "mask", "pick one example and head, e.g. mask[0, 0]").astype(bool)
    keys = key_tokens if key_tokens is not None else tokens
    keys = check_tokens(keys, matrix.shape[1], "key tokens")
    if matrix.shape[0] == 1 and tokens is not None and len(tokens) > 1:
        matrix = np.repeat(matrix, len(tokens), axis=0)  # a padding row: the same for every query
    queries = check_tokens(tokens, matrix.shape[0], "query tokens")

    t, s = cut(matrix.shape[0], max_tokens), cut(matrix.shape[1], max_tokens)
    shown = matrix[:t, :s].astype(np.int64)
    font = None  # on a given axes: whatever fits its size
    if ax is None:
        side, label_room = map_size(max(t, s), max(queries[:t] + keys[:s], key=len))
        font = fit_font(side, max(t, s))
        fig, ax = figure_and_ax(None, (side + label_room + 0.4, side + label_room + 1.0))
    else:
        fig = ax.get_figure()
    ax.imshow(shown, cmap=MASK_CMAP, vmin=0, vmax=1, interpolation="nearest")
    _draw_cell_borders(ax, t, s)
    ax.set_ylabel("query (looks)", fontsize=LABEL_FONT)
    ax.set_xlabel("key (is looked at)", fontsize=LABEL_FONT)
    tick_note = set_token_ticks(ax, keys[:s], queries[:t], max_tick_labels, font=font)
    add_note(ax, cut_note(matrix.shape, (t, s)), tick_note)
    ax.set_title(title or "attention mask: filled = may attend", fontsize=LABEL_FONT + 1)
    return fig


def _draw_cell_borders(ax: Axes, t: int, s: int) -> None:
    """Thin white lines between cells, so single cells can be counted (skipped when tiny)."""
    if max(t, s) > 40:
        return
    ax.set_xticks(np.arange(-0.5, s, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, t, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="minor", length=0)


def comparison_masks(attention_mask: Sequence[int]) -> dict[str, torch.Tensor]:
    """The four ``(t, t)`` masks of ``plot_mask_comparison``, made by ``minitransformers.masks``."""
    t = len(attention_mask)
    # (1, s): the same row for every query, since padding hides keys, not queries.
    padding = padding_mask(torch.tensor([list(attention_mask)]))[0, 0]
    return {
        "bidirectional (BERT)": bidirectional_mask(t),
        "causal (GPT)": causal_mask(t),
        "padding (BERT, padded batch)": combine_masks(bidirectional_mask(t), padding),
        "causal + padding (GPT, padded batch)": combine_masks(causal_mask(t), padding),
    }


def plot_mask_comparison(
    tokens: Sequence[str],
    padding: int | Sequence[int] = 2,
    axes: Sequence[Axes] | None = None,
    *,
    pad_token: str = "[PAD]",
    max_tokens: int | None = MAX_TOKENS,
) -> Figure:
    """Bidirectional vs causal vs padding vs causal+padding masks for one sentence, side by side.

    ``padding`` is either a number of ``pad_token`` tokens appended to
    ``tokens`` (as when a short sentence shares a batch with a longer one),
    or an attention mask with one 1 (real) / 0 (pad) per token of ``tokens``.
    ``axes``: four axes to draw on (default: a new 2 x 2 figure, BERT on the
    left, GPT on the right, without padding above and with it below).
    """
    tokens = [str(token) for token in tokens]
    if isinstance(padding, (int, np.integer)):
        if padding < 0:
            raise ValueError(f"padding must be a number of pad tokens >= 0 or a 0/1 list, "
                             f"got {padding}")
        attention_mask = [1] * len(tokens) + [0] * int(padding)
        tokens = tokens + [pad_token] * int(padding)
    else:
        attention_mask = [int(value) for value in padding]
        if len(attention_mask) != len(tokens) or not set(attention_mask) <= {0, 1}:
            raise ValueError(f"padding as an attention mask needs one 0/1 value per token: "
                             f"got {len(attention_mask)} values for {len(tokens)} tokens")
    if not tokens:
        raise ValueError("plot_mask_comparison needs at least one token")

    masks = comparison_masks(attention_mask)
    n = cut(len(tokens), max_tokens)
    made_here = axes is None
    if made_here:
        side = float(np.clip(0.25 * n, 3.0, 3.6))  # two rows of panels, about a slide high
        label_room = text_inches(max(tokens[:n], key=len), min(MAX_FONT, fit_font(side, n))) + 0.6
        fig = new_figure((2 * (side + label_room) + 0.6, 2 * (side + label_room + 0.5) + 0.9),
                         layout="constrained")
        axes = fig.subplots(2, 2)
    axes = list(np.ravel(axes))
    if len(axes) != 4:
        raise ValueError(f"plot_mask_comparison draws 4 masks; got {len(axes)} axes")
    for ax, (name, mask) in zip(axes, masks.items(), strict=True):
        plot_mask(mask, tokens, ax=ax, title=name, max_tokens=max_tokens)  # fonts fit each panel
    for ax in axes[1::2]:  # the row names are on the left of each row already
        ax.set_ylabel("")
    for ax in axes[:2]:
        if ax.get_xlabel() == "key (is looked at)":  # no note to keep: the bottom row names the columns
            ax.set_xlabel("")
    fig = axes[0].get_figure()
    fig.legend(
        handles=[Patch(facecolor=ALLOWED_COLOUR, edgecolor="gray", label="may attend"),
                 Patch(facecolor=HIDDEN_COLOUR, edgecolor="gray", label="hidden")],
        loc="outside lower center" if made_here else "upper right", ncols=2, fontsize=LABEL_FONT,
        frameon=False,
    )
    described = describe_input(tokens)
    fig.suptitle(heading("Who may look at whom: rows are queries, columns are keys",
                         wrap(described, fig.get_figwidth() - 0.4, TITLE_FONT)), fontsize=TITLE_FONT)
    return fig
