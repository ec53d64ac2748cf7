"""The course's texts hold whichever mini-BERT and mini-GPT are shipped.

The shipped pair is retrained now and then (another size, another machine,
another model card). What a checkpoint decides is printed by the cell beside
the text (``tests/test_notebooks.py`` checks the numbers and verdicts); what
its card or config says is read from them. So no sentence may state where the
shipped models were trained, cite a section of a model card (the sections
change with the card), or, in TEACHING.md's plan, quote an output that holds
the checkpoint's width or context length.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from minitransformers.recipes.famous_lines import FAMOUS_LINES
from test_notebooks import sentences

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
WEIGHTS_DIR = REPO_ROOT / "weights"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
PAIR = ("mini-bert-shakespeare", "mini-gpt-shakespeare")

ABOUT_THE_SHIPPED = re.compile(r"\b(shipped|model card|checkpoint)", flags=re.IGNORECASE)
MACHINE = re.compile(r"\b(GPUs?|CPUs?|[AHV]100|H200|TPUs?|laptop)\b")


def _markdown_sentences(path: Path) -> list[tuple[int, str]]:
    notebook = nbformat.read(path, as_version=4)
    return [(index, sentence) for index, cell in enumerate(notebook.cells) if cell.cell_type == "markdown"
            for sentence in sentences(cell.source)]


def card_sections() -> set[str]:
    """The ``## `` headings of the shipped cards: Targets, Samples, Known problems, ..."""
    return {line[3:].strip() for path in WEIGHTS_DIR.glob("*/README.md")
            for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("## ")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_no_sentence_says_where_the_shipped_models_were_trained(path):
    wrong = [f"cell {index}: {sentence[:120]!r}" for index, sentence in _markdown_sentences(path)
             if ABOUT_THE_SHIPPED.search(sentence) and MACHINE.search(sentence)]
    assert not wrong, (f"{path.name} says on what machine the shipped checkpoint was trained; its model card says "
                       f"it, and a retrained pair changes it: point to the card instead. {wrong}")


def test_the_card_sections_are_read_from_the_cards():
    sections = card_sections()
    assert {"Targets", "Samples"} <= sections, sections


@pytest.mark.parametrize("path", [*NOTEBOOKS, NOTEBOOKS_DIR / "TEACHING.md"], ids=lambda path: path.name)
def test_no_text_cites_a_section_of_a_model_card(path):
    text = (path.read_text(encoding="utf-8") if path.suffix == ".md" else
            "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"))
    cited = sorted(section for section in card_sections()
                   if re.search(rf"card\W.{{0,40}}\*{re.escape(section)}\*|\*{re.escape(section)}\*.{{0,40}}card",
                                text, flags=re.DOTALL))
    assert not cited, (f"{path.name} cites the model card's {cited}; a retrained checkpoint's card need not have "
                       f"them: cite the card as a whole, or print what it says in a cell")


def _sizes() -> set[str]:
    """The width, feed-forward width and context of the shipped pair, as the configs give them."""
    keys = ("hidden_size", "n_embd", "intermediate_size", "n_inner", "max_position_embeddings", "n_positions")
    configs = [json.loads((WEIGHTS_DIR / name / "config.json").read_text(encoding="utf-8")) for name in PAIR]
    return {str(config[key]) for config in configs for key in keys if isinstance(config.get(key), int)}


def plan_quotes() -> list[str]:
    """The backticked outputs of TEACHING.md's plan (its last column)."""
    guide = (NOTEBOOKS_DIR / "TEACHING.md").read_text(encoding="utf-8")
    table = guide.split("## A 90-minute lab")[1].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("|") and not line.startswith("|---")][1:]
    return [quote for row in rows for quote in re.findall(r"`([^`]+)`", row.strip().strip("|").split("|")[-1])]


def test_the_plans_expected_outputs_hold_no_size_of_the_shipped_pair():
    sizes = _sizes()
    assert sizes, "the shipped configs give no width"
    wrong = [quote for quote in plan_quotes() if set(re.findall(r"\d+", quote)) & sizes]
    assert not wrong, (f"TEACHING.md's plan quotes outputs that hold the shipped pair's sizes {sorted(sizes)}: "
                       f"{wrong}; a retrained pair prints others: give the shape by its letters, e.g. (b t c)")


NUMBER_WORDS = {"twenty": 20, "twenty-two": 22, "twenty-one": 21, "nineteen": 19}
COUNT = re.compile(r"\b(\d+|[Tt]wenty(?:-\w+)?|[Nn]ineteen)\s+(?:famous\s+)?(?:lines|gaps)\b")


def test_the_text_counts_the_famous_lines_as_the_list_does():
    counted = []
    for path in NOTEBOOKS:
        for index, sentence in _markdown_sentences(path):
            if "famous line" not in sentence.lower():
                continue
            for said in COUNT.findall(sentence):
                number = int(said) if said.isdigit() else NUMBER_WORDS[said.lower()]
                counted.append((path.stem, index, number))
    assert counted, "no sentence counts the famous lines"
    wrong = [entry for entry in counted if entry[2] != len(FAMOUS_LINES)]
    assert not wrong, f"the list holds {len(FAMOUS_LINES)} famous lines; these sentences count otherwise: {wrong}"
