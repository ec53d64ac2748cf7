"""scripts/time_quickstart.py times README's first look and the demo; README quotes its sentence."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("time_quickstart", REPO_ROOT / "scripts" / "time_quickstart.py")
timing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(timing)


def test_it_times_the_readmes_first_look_as_a_script_and_the_demo(tmp_path):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    snippet = timing.first_look_snippet()
    assert f"```python\n{snippet}```" in readme.split("## A first look")[1]
    assert "fill_mask" in snippet and "generate" in snippet
    commands = timing.commands(tmp_path / "first_look.py", tmp_path / "out")
    assert commands["first_look"] == [sys.executable, str(tmp_path / "first_look.py")]
    assert commands["demo"][1:4] == ["-m", "minitransformers", "demo"]


def test_it_prints_the_readme_sentence_with_the_medians_and_the_machine(monkeypatch, capsys):
    times = iter([3.0, 1.0, 2.0, 9.0, 7.0, 8.0])  # three runs of the first look, then three of the demo
    monkeypatch.setattr(timing, "wall_clock", lambda command: next(times))
    assert timing.main(["--runs", "3"]) == 0
    sentence = capsys.readouterr().out.strip()
    assert sentence.startswith("Saved as a script, this runs in 2.0 s and `python -m minitransformers demo` in 8.0 s")
    assert "medians of 3 runs" in sentence and "cores" in sentence


def test_the_readme_quotes_the_scripts_sentence_not_a_guess():
    readme = " ".join((REPO_ROOT / "README.md").read_text(encoding="utf-8").split())
    template = re.escape(timing.SENTENCE)
    for field in ("first_look", "demo", "runs", "machine"):
        template = template.replace(re.escape("{" + field + "}"), ".+?")
    assert re.search(template, readme), "README's timing sentence should be the one scripts/time_quickstart.py prints"
    assert "about 3 s" not in readme and "about 4 s" not in readme
