"""Notebook 04c's task, the two plateau baselines from token counts: a right answer passes (written as a
student would, with Counter and math.log), and each usual mistake fails with its name and the fix."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

from minitransformers import exercises
from minitransformers.exercises.plateau_exercises import _plateau_inputs, plateau_baselines


def counted(train_counts, tokens, selected, special_ids):
    """The baselines with Counter and math.log, one token at a time: an answer the library did not write."""
    specials = set(special_ids.tolist())
    counts = Counter({token: int(count) for token, count in enumerate(train_counts.tolist())
                      if token not in specials})
    total = sum(counts.values())
    top, _ = counts.most_common(1)[0]
    scored = [token for token, chosen in zip(tokens.flatten().tolist(), selected.flatten().tolist()) if chosen]
    accuracy = sum(token == top for token in scored) / len(scored)
    entropy = sum(-math.log(counts[token] / total) for token in scored) / len(scored)
    return torch.tensor(accuracy), torch.tensor(entropy)


def vectorised(train_counts, tokens, selected, special_ids):
    counts = train_counts.float().index_fill(0, special_ids, 0.0)
    frequency = counts / counts.sum()
    chosen = tokens[selected]
    return (chosen == counts.argmax()).float().mean(), -frequency[chosen].log().mean()


@pytest.mark.parametrize("solution", [counted, vectorised])  # the library's own: refused (test_exercises_grader)
def test_right_answers_pass(solution):
    result = exercises.check("plateau_baselines", solution)
    assert result.passed, result.message
    assert result.message == "✓ plateau_baselines: all 4 trials match the library."


def test_the_reference_agrees_with_a_count_by_hand_on_every_trial():
    generator = torch.Generator().manual_seed(0)
    for trial in range(4):
        inputs = _plateau_inputs(generator, trial)
        for want, got in zip(counted(*inputs.values()), plateau_baselines(*inputs.values()), strict=True):
            assert got.item() == pytest.approx(want.item(), rel=1e-6)


def with_specials(train_counts, tokens, selected, special_ids):
    frequency = train_counts.float() / train_counts.sum()
    chosen = tokens[selected]
    return (chosen == train_counts.argmax()).float().mean(), -frequency[chosen].log().mean()


def in_bits(train_counts, tokens, selected, special_ids):
    accuracy, entropy = counted(train_counts, tokens, selected, special_ids)
    return accuracy, entropy / math.log(2)


def over_every_position(train_counts, tokens, selected, special_ids):
    return vectorised(train_counts, tokens, torch.ones_like(selected), special_ids)


def over_every_ordinary_token(train_counts, tokens, selected, special_ids):
    return vectorised(train_counts, tokens, ~torch.isin(tokens, special_ids), special_ids)


@pytest.mark.parametrize("wrong, mistake, words", [
    (with_specials, "special_tokens_counted", "counted the special tokens"),
    (in_bits, "bits", "natural log"),
    (over_every_position, "all_positions", "selected (masked) positions"),
    (over_every_ordinary_token, "all_positions", "selected (masked) positions"),
])
def test_each_usual_mistake_is_named(wrong, mistake, words):
    result = exercises.check("plateau_baselines", wrong)
    assert not result.passed
    assert result.mistake == mistake, result.message
    assert words in result.message
    assert result.message.startswith("✗ plateau_baselines: trial 1 of 4")


def test_each_mistake_changes_the_answer_on_the_first_trial():
    # The trials are built so that every mistake shows: padding outnumbers every ordinary token.
    inputs = _plateau_inputs(torch.Generator().manual_seed(0), 0)
    right = counted(*inputs.values())
    for wrong in (with_specials, in_bits, over_every_position, over_every_ordinary_token):
        answer = wrong(*inputs.values())
        assert any(abs(a.item() - r.item()) > 1e-3 for a, r in zip(answer, right, strict=True)), wrong.__name__
    assert with_specials(*inputs.values())[0].item() == 0.0  # <pad> is guessed, and never a gap


def test_python_floats_are_told_to_be_tensors():
    result = exercises.check("plateau_baselines", lambda *inputs: tuple(x.item() for x in counted(*inputs)))
    assert not result.passed and "should be a torch.Tensor" in result.message
