"""The verdict sentence names the right winner, weighs the gap against its spread, and says when the
expected direction (Ettin's) is not reproduced."""

from __future__ import annotations

import statistics

import pytest

from minitransformers.analysis.pair_table import Row, against_expectation, markdown_table, verdict, winner


def test_a_clear_lead_names_its_family_the_points_and_the_ratio():
    bert, gpt = [0.40, 0.45, 0.50], [0.30, 0.33, 0.36]  # gaps 0.10, 0.12, 0.14
    ratio = 0.12 / statistics.stdev([0.10, 0.12, 0.14])
    assert winner(bert, gpt) == "BERT"
    assert verdict(bert, gpt) == f"BERT by 12.0 points, {ratio:.1f}x the spread"
    assert winner(gpt, bert) == "GPT"
    assert verdict(gpt, bert).startswith("GPT by 12.0 points")


def test_the_sentence_can_name_any_two_models():
    first, second = [0.40, 0.45, 0.50], [0.30, 0.33, 0.36]
    names = ("MiniLM", "mini-BERT cls")
    assert verdict(first, second, names=names).startswith("MiniLM by 12.0 points")
    assert verdict(second, first, names=names).startswith("mini-BERT cls by 12.0 points")
    assert "mini-BERT cls ahead" in verdict([0.50, 0.30, 0.42], [0.60, 0.38, 0.30], names=names)


def test_a_gap_within_twice_the_spread_has_no_winner():
    bert, gpt = [0.50, 0.30, 0.42], [0.40, 0.38, 0.40]  # gaps 0.10, -0.08, 0.02: mean 0.013, spread 0.09
    assert winner(bert, gpt) is None
    sentence = verdict(bert, gpt)
    assert sentence.startswith("no clear winner: the gap (1.3 points, BERT ahead) is within 2x the spread")


def test_the_paired_gap_counts_not_each_side_s_own_spread():
    # Both sides vary a lot from fold to fold, but BERT leads by exactly 5 points in every fold.
    bert, gpt = [0.25, 0.55, 0.85], [0.20, 0.50, 0.80]
    assert winner(bert, gpt) == "BERT"
    assert verdict(bert, gpt) == "BERT by 5.0 points, the same gap in every fold"


def test_one_fold_or_a_tie_gives_no_winner():
    assert winner([0.6], [0.4]) is None
    assert "single fold: no spread" in verdict([0.6], [0.4])
    assert winner([0.3, 0.4], [0.3, 0.4]) is None
    assert verdict([0.3, 0.4], [0.3, 0.4]).startswith("a tie")
    with pytest.raises(ValueError, match="one score per fold"):
        winner([0.1, 0.2], [0.1])


def test_the_sentence_says_whether_the_expected_direction_is_reproduced():
    reason = "Ettin: the encoder wins classification"
    assert against_expectation("BERT", "BERT", reason) == f"as expected ({reason})"
    assert "opposite of the expected direction" in against_expectation("GPT", "BERT", reason)
    assert "not reproduced" in against_expectation(None, "BERT", reason)
    assert against_expectation("GPT", None, "") == ""
    with pytest.raises(ValueError, match="expected must be one of"):
        against_expectation("GPT", "bert", reason)


def test_a_row_prints_means_spreads_chance_and_its_verdict():
    row = Row("Genre", [0.6, 0.7], [0.4, 0.45], chance=0.4, folds="2 folds by play", expected="GPT",
              reason="a made-up reason", note="a note")
    table = markdown_table([row])
    assert "| Genre | 65.0 ± 7.1 | 42.5 ± 3.5 | 40.0 | 2 folds by play | BERT by 22.5 points" in table
    assert "the opposite of the expected direction (a made-up reason)" in table
    assert table.endswith("- Genre: a note")
