"""One row per task: BERT and GPT scored on the same folds, chance beside them, and a verdict in words.

A gap between two means says little without its spread. Every task here is
scored on several *folds* (held-out plays, or cross-validation splits), the
same folds for both models, so each fold gives one paired gap, BERT's score
less GPT's. The **spread** is the standard deviation of those gaps over the
folds, and the verdict weighs the mean gap against it: a family wins a row
only when the gap is at least :data:`CLEAR` times the spread ("BERT by 12.3
points, 4.1x the spread"); otherwise "no clear winner". Each row also says
whether the winner is the family expected to win that kind of task, mostly
from Ettin's findings (Weller et al., 2025): the encoder wins classification
and retrieval, the decoder generation, and continued training with the other
objective does not catch up.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

CLEAR = 2.0  # a gap this many times its spread counts as a win
FAMILIES = ("BERT", "GPT")


def _mean(values: list[float]) -> float:
    return statistics.fmean(values)


def _std(values: list[float]) -> float | None:
    """The sample standard deviation, or ``None`` for a single value (no spread measured)."""
    return statistics.stdev(values) if len(values) > 1 else None


def _gap_and_spread(bert: list[float], gpt: list[float]) -> tuple[float, float | None]:
    """The mean of the per-fold gaps (BERT less GPT) and their spread (0 below rounding noise)."""
    if len(bert) != len(gpt) or not bert:
        raise ValueError(f"give one score per fold for each family, found {len(bert)} for BERT and {len(gpt)} for GPT")
    gaps = [b - g for b, g in zip(bert, gpt)]
    spread = _std(gaps)
    return _mean(gaps), (0.0 if spread is not None and spread < 1e-12 else spread)


def winner(bert: list[float], gpt: list[float], clear: float = CLEAR) -> str | None:
    """``"BERT"``, ``"GPT"`` or ``None`` (no clear winner) for paired per-fold scores (higher is better)."""
    gap, spread = _gap_and_spread(bert, gpt)
    if gap == 0 or spread is None:
        return None  # a tie, or one fold: nothing to weigh the gap against
    if spread == 0 or abs(gap) >= clear * spread:
        return "BERT" if gap > 0 else "GPT"
    return None


def verdict(bert: list[float], gpt: list[float], clear: float = CLEAR, scale: float = 100.0,
            names: tuple[str, str] = FAMILIES) -> str:
    """Which family wins, by how many points (``scale`` x the score) and how many times the spread.

    ``names`` are what the sentence calls the first and the second scores (notebook 06 weighs the
    reference model against the best mini model the same way).
    """
    found = winner(bert, gpt, clear)
    gap, spread = _gap_and_spread(bert, gpt)
    points = abs(gap) * scale
    ahead = names[0] if gap > 0 else names[1]
    if gap == 0:
        return "a tie: the same score"
    if spread is None:
        return f"{ahead} ahead by {points:.1f} points on a single fold: no spread to judge it by"
    if spread == 0:
        return f"{ahead} by {points:.1f} points, the same gap in every fold"
    ratio = abs(gap) / spread
    if found is None:
        return f"no clear winner: the gap ({points:.1f} points, {ahead} ahead) is within {clear:g}x the spread " \
               f"({ratio:.1f}x)"
    return f"{ahead} by {points:.1f} points, {ratio:.1f}x the spread"  # the winner: found is ahead


def against_expectation(found: str | None, expected: str | None, reason: str) -> str:
    """Whether the row's winner is the family ``reason`` expects (Ettin's finding, or the task's nature)."""
    if expected is None:
        return ""
    if expected not in FAMILIES:
        raise ValueError(f"expected must be one of {FAMILIES} or None, got {expected!r}")
    if found == expected:
        return f"as expected ({reason})"
    if found is None:
        return f"the expected direction is not reproduced ({reason})"  # the verdict already says no winner
    return f"the opposite of the expected direction ({reason})"


@dataclass
class Row:
    """One task's scores: one number per fold for each family, and the chance level."""

    task: str
    bert: list[float]
    gpt: list[float]
    chance: float
    folds: str  # what the folds are, e.g. "4 held-out plays"
    expected: str | None = None  # the family expected to win, or None
    reason: str = ""  # why it is expected, in a few words ("Ettin: the decoder wins generation")
    note: str = ""
    scale: float = 100.0  # scores in [0, 1] are shown as percentages
    extra: dict = field(default_factory=dict)

    @property
    def winner(self) -> str | None:
        return winner(self.bert, self.gpt)

    def cell(self, scores: list[float]) -> str:
        spread = _std(scores)
        mean = f"{_mean(scores) * self.scale:.1f}"
        return mean if spread is None else f"{mean} ± {spread * self.scale:.1f}"

    def sentence(self) -> str:
        expectation = against_expectation(self.winner, self.expected, self.reason)
        return verdict(self.bert, self.gpt, scale=self.scale) + (f"; {expectation}" if expectation else "")


def markdown_table(rows: list[Row]) -> str:
    """The rows as a Markdown table, then their notes."""
    lines = ["| task | BERT | GPT | chance | spread over | verdict |", "|---|---:|---:|---:|---|---|"]
    for row in rows:
        lines.append(f"| {row.task} | {row.cell(row.bert)} | {row.cell(row.gpt)} | {row.chance * row.scale:.1f} "
                     f"| {row.folds} | {row.sentence()} |")
    notes = [f"- {row.task}: {row.note}" for row in rows if row.note]
    return "\n".join(lines + ([""] + notes if notes else []))
