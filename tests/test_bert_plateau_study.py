"""The plateau study's parts: its variations, and bad input gets one line (its fast loss, the library's
``MaskedPositionsLoss``, is tested in test_masked_positions.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))
from plateau_recipe import VARIATIONS, Recipe  # noqa: E402


def test_every_variation_changes_known_fields():
    for name, (what, changes) in VARIATIONS.items():
        Recipe().changed(**changes)  # a misspelt field would raise here
        assert what, name


@pytest.mark.parametrize("arguments, words", [
    (["no_such_variation"], "unknown variation 'no_such_variation'"),
    (["shipped", "--steps", "0"], "must be at least 1"),
])
def test_bad_input_gets_one_line(arguments, words, tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPTS / "bert_plateau_study.py"), *arguments,
                             "--results", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr


def _record(name: str, accuracies: list[float], steps: int = 300) -> dict:
    curve = [{"step": 100 * (i + 1), "accuracy": a, "loss": 6.0, "newline_guess_share": 0.5}
             for i, a in enumerate(accuracies)]
    baselines = {"top_token": "\n", "most_frequent": 0.07, "by_frequency": 0.012, "loss": 7.0, "tokens": 1000}
    return {"variation": name, "what": f"{name} changed", "recipe": {"block_size": 128}, "steps": steps,
            "curve": curve, "wall_time_s": 60.0, "baselines": baselines}


def test_a_run_leaves_the_plateau_three_points_above_the_top_token():
    import bert_plateau_study as study

    assert study.plateau_exit_step(_record("a", [0.08, 0.0999, 0.10])) == 300  # 7% + 3 points
    assert study.plateau_exit_step(_record("b", [0.08, 0.09, 0.095])) is None


def test_the_table_puts_the_best_final_accuracy_first(capsys):
    import bert_plateau_study as study

    study.print_table([_record("slow", [0.07, 0.08, 0.09]), _record("quick", [0.07, 0.12, 0.20])])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| quick")
            or line.startswith("| slow")]
    assert rows[0].startswith("| quick |") and "| 20.0% | 6.00 | 200 |" in rows[0]
    assert rows[1].startswith("| slow |") and "| not yet |" in rows[1]


def test_a_run_on_other_windows_gets_its_own_baseline_line_and_plateau(capsys):
    import bert_plateau_study as study

    wide = _record("wide", [0.06, 0.08, 0.095])
    wide["recipe"] = {"block_size": 256}
    wide["baselines"] = dict(wide["baselines"], most_frequent=0.06, tokens=2000)
    study.print_table([_record("a", [0.07, 0.08, 0.09]), _record("b", [0.07, 0.08, 0.09]), wide])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Unigram baselines on the held-out plays (context 128, 1000 masked tokens)")
    assert lines[1].startswith("For wide: unigram baselines on the held-out plays (context 256, 2000 masked tokens)")
    assert "always the most frequent token ('\\n') 6.0%" in lines[1]
    wide_row = next(line for line in lines if line.startswith("| wide |"))
    # 9.5% is 3.5 points above its own 6% but not above the study's 7%: it left its plateau at 300.
    assert "9.5% (unigram 6.0%)" in wide_row and "| 300 |" in wide_row
