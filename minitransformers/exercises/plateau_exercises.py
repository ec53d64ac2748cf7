"""The exercise of notebook 04c: the two levels a model sits at on the loss plateau, from token counts.

While a model has learnt only how often each token occurs, its best guess
for every gap is the most frequent token, and its loss is the unigram
entropy: the mean of ``-ln p(token)`` over the tokens it is scored on. The
notebook draws both as lines under the training curves; the student
computes them here.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from einops import rearrange

from .exercise import Exercise, Mistake


def plateau_baselines(train_counts: torch.Tensor, tokens: torch.Tensor, selected: torch.Tensor,
                      special_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The accuracy of always guessing the most frequent ordinary token, and the unigram loss in nats.

    ``train_counts (v)``: each id's count in the training windows; ``tokens (b t)``: held-out ids;
    ``selected (b t)``: the scored positions; ``special_ids (k)``: ids never predicted. Both numbers
    are taken over the selected positions only, with frequencies among the ordinary tokens.
    """
    return _baselines(train_counts, tokens, selected, special_ids)


def _baselines(train_counts: torch.Tensor, tokens: torch.Tensor, selected: torch.Tensor, special_ids: torch.Tensor,
               *, count_specials: bool = False, every_position: bool = False, ordinary_positions: bool = False,
               log_base: float = math.e) -> tuple[torch.Tensor, torch.Tensor]:
    """The baselines, or with one thing done wrong, for the typical mistakes."""
    counts = train_counts.double().clone()
    if not count_specials:
        counts[special_ids] = 0.0  # the model never has to predict <cls>, <sep>, <pad> or <mask>
    frequency = counts / counts.sum()
    if every_position:
        where = torch.ones_like(selected)
    elif ordinary_positions:
        where = ~torch.isin(tokens, special_ids)
    else:
        where = selected
    scored = tokens[where]  # (n): the tokens the model is scored on
    accuracy = (scored == counts.argmax()).double().mean()
    entropy = -(frequency[scored].log() / math.log(log_base)).mean()
    return accuracy.float(), entropy.float()


def _plateau_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    v, b, t = [(12, 3, 8), (20, 2, 11), (9, 4, 6), (30, 2, 9)][trial % 4]
    # Four special ids, in another place each trial, so a hard-coded list fails.
    special_ids = [torch.arange(4), torch.arange(v - 4, v), torch.tensor([0, 3, 5, 8]), torch.tensor([7, 1, 29, 14])]
    specials = special_ids[trial % 4]
    pad, cls, sep = (int(i) for i in specials[:3])
    ordinary = torch.ones(v, dtype=torch.bool)
    ordinary[specials] = False
    counts = torch.randint(1, 40, (v,), generator=g)  # every ordinary token seen at least once
    top = torch.nonzero(ordinary).flatten()[torch.randint(int(ordinary.sum()), (1,), generator=g)]
    counts[top] = counts.max() + 15  # one clear most frequent ordinary token
    # Padding outnumbers every ordinary token: counted, it becomes the "most frequent token".
    counts[pad] = 2 * counts.max()
    # Held-out windows drawn from the training frequencies: <cls> first, a <sep>, pads at the end.
    weights = torch.where(ordinary, counts, 0).float()
    tokens = rearrange(torch.multinomial(weights, b * t, replacement=True, generator=g), "(b t) -> b t", b=b)
    tokens[:, 0], tokens[:, t // 2] = cls, sep
    tokens[0, -2:] = pad
    fate = torch.rand(b, t, generator=g)
    selected = (fate < 0.4) & ~torch.isin(tokens, specials)  # specials are never selected, as in BERT's data
    selected[1, 1] = True  # at least one scored position in every trial
    return {"train_counts": counts, "tokens": tokens, "selected": selected, "special_ids": specials}


PLATEAU_BASELINES = Exercise(
    name="plateau_baselines",
    statement="""The two plateau baselines: what a model scores while it knows only how often each token occurs.

    def plateau_baselines(train_counts, tokens, selected, special_ids):
        train_counts (v): how often each token id occurs in the training windows, special tokens included
            (every ordinary token occurs at least once)
        tokens (b t): held-out windows, the original ids (special tokens included)
        selected (b t) bool: the positions the model is scored on (for BERT, the masked ones)
        special_ids (k): the ids of the special tokens (<pad>, <cls>, <sep>, <mask>): never to predict
        returns (accuracy, entropy), two float tensors of shape ():
            accuracy: the share of the selected positions that hold the most frequent ordinary
                training token (the accuracy of always guessing it)
            entropy: the mean over the selected positions of -ln p(token), p the token's training
                frequency among the ordinary tokens: the loss, in nats like the training loss,
                of a model that knows only the frequencies (the unigram-entropy line)
    """,
    make_inputs=_plateau_inputs,
    reference=plateau_baselines,
    output_names=("accuracy", "entropy"),
    mistakes=(
        Mistake("special_tokens_counted", lambda *inputs: _baselines(*inputs, count_specials=True),
                "You counted the special tokens. <pad>, <cls> and <sep> fill the training windows but are "
                "never a gap to fill: counted, padding becomes the \"most frequent token\" and every "
                "frequency is too small. Set their counts to 0 before you take frequencies."),
        Mistake("bits", lambda *inputs: _baselines(*inputs, log_base=2.0),
                "Your entropy is in bits (log base 2). The training loss (cross-entropy) uses the natural "
                "log, so the line must be in nats to sit on the same axis: use the natural log."),
        Mistake("all_positions", lambda *inputs: _baselines(*inputs, every_position=True),
                "You counted over every held-out position. The model is scored only on the selected "
                "(masked) positions, so both baselines are taken over those positions only."),
        Mistake("all_positions", lambda *inputs: _baselines(*inputs, ordinary_positions=True),
                "You counted over every ordinary held-out token. The model is scored only on the selected "
                "(masked) positions, so both baselines are taken over those positions only."),
    ),
)
