"""The size sweep's parts: its scored steps, its run names and its table (scripts/pair_size_sweep.py)."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))
from pair_size_sweep import SIZES, print_table, rising, run_name, scored_steps  # noqa: E402


def test_every_run_is_scored_at_each_tenth_and_at_its_last_step():
    assert scored_steps(950) == [95, 190, 285, 380, 475, 570, 665, 760, 855, 950]
    assert scored_steps(5) == [1, 2, 3, 4, 5]  # a short run: no step twice, none past the end


def test_every_size_has_heads_of_64_dimensions():
    assert all(shape["hidden_size"] // shape["n_heads"] == 64 for shape in SIZES.values())
    assert all(shape["hidden_size"] % shape["n_heads"] == 0 for shape in SIZES.values())


def test_another_dropout_is_its_own_row():
    assert run_name("bert", 0.1) == "bert" and run_name("gpt", 0.1) == "gpt"
    assert run_name("gpt", 0.0) == "gpt-dropout0" and run_name("gpt", 0.2) == "gpt-dropout0.2"


def _curve(accuracies):
    return [{"step": 100 * (i + 1), "accuracy": a, "loss": 7 - a, "train_loss": 7.0} for i, a in enumerate(accuracies)]


def test_rising_is_the_slope_over_the_last_fifth():
    curve = _curve([0.07] * 8 + [0.10, 0.13])  # +6 points over the last 200 steps
    assert abs(rising(curve, "accuracy") - 0.06 / 200 * 1000) < 1e-9


def test_the_table_has_a_row_per_size_with_both_models(capsys):
    bert = {"curve": _curve([0.07] * 9 + [0.114]), "bert_step_s": 0.73, "steps": 1000, "parameters": 5_400_000,
            "wall_time_s": 732.0, "machine": "AMD EPYC, 2 logical cores",
            "baselines": {"top_token": "\n", "most_frequent": 0.07, "loss": 7.01}}
    gpt = {"curve": [{"step": 1000, "loss": 4.81, "train_loss": 4.7}], "steps": 1000, "wall_time_s": 900.0}
    print_table({"4x256@128": {"bert": bert, "gpt": gpt,
                               "both_sides": {"bert_both_sides": 0.2, "gpt_left_only": 0.18}}})
    out = capsys.readouterr().out
    assert "AMD EPYC, 2 logical cores" in out
    row = next(line for line in out.splitlines() if line.startswith("| 4x256@128"))
    assert "11.4%" in row and "4.810" in row and "20.0% / 18.0%" in row and "12.2 / 15.0" in row
