"""Notebook 07b swaps GPT-2's parts into Llama's one at a time, starting from mini-GPT's recipe.

The notebook runs in ``tests/test_notebooks.py``; this file checks, without running it, that its
variants are the lesson the issue asks for: each one the one before with exactly one part of
``LLAMA_SWAPS`` changed, in that order, the last one a Llama, and the first one mini-GPT's recipe.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from minitransformers import LLAMA_SWAPS

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "07b_from_gpt2_to_llama.ipynb"
# Settings a swap may bring with it: SwiGLU's narrower hidden layer, the number of key/value heads.
COMPANIONS = {"feedforward": {"intermediate_size"}, "attention": {"extra"}}


def swaps_of(source: str) -> dict[str, dict]:
    """The ``SWAPS = {name: dict(...)}`` literal of a code cell, evaluated without running the cell."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "SWAPS" for target in node.targets):
            swaps = {}
            for key, value in zip(node.value.keys, node.value.values):
                if isinstance(value, ast.Call):  # dict(a=1, ...)
                    swaps[ast.literal_eval(key)] = {kw.arg: ast.literal_eval(kw.value) for kw in value.keywords}
                else:
                    swaps[ast.literal_eval(key)] = ast.literal_eval(value)
            return swaps
    raise AssertionError("no SWAPS = {...} in the notebook")


def config_cell() -> str:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code" and "SWAPS = {" in cell.source]
    assert len(cells) == 1, "07b should define its variants in one cell"
    return cells[0]


def check_one_part_at_a_time(swaps: dict[str, dict]) -> None:
    first, *rest = swaps.values()
    assert first == {}, "the first variant is GPT-2 as the recipe builds it"
    parts = [sorted(set(swap) & set(LLAMA_SWAPS)) for swap in rest]
    assert all(len(changed) == 1 for changed in parts), f"each variant swaps one part, found {parts}"
    assert [changed[0] for changed in parts] == list(LLAMA_SWAPS), "the swaps follow LLAMA_SWAPS' order, all six"
    for swap, (part,) in zip(rest, parts):
        assert swap[part] == LLAMA_SWAPS[part], f"{part} is swapped to {swap[part]!r}, not Llama's"
        extra = set(swap) - {part}
        assert extra <= COMPANIONS.get(part, set()), f"the {part} swap also changes {sorted(extra)}"


def test_each_variant_swaps_one_more_of_llamas_parts():
    check_one_part_at_a_time(swaps_of(config_cell()))


@pytest.mark.parametrize("swaps, words", [
    ({"GPT-2": {}, "+ rotary and RMSNorm": {"positional": "rotary", "norm": "rmsnorm"}}, "one part"),
    ({"GPT-2": {}, **{f"+ {part}": {part: value} for part, value in reversed(LLAMA_SWAPS.items())}}, "order"),
    ({"GPT-2": {}, **{f"+ {part}": {part: value} for part, value in list(LLAMA_SWAPS.items())[:-1]}}, "order"),
    ({"GPT-2": {}, **{f"+ {part}": {part: value, **({"n_layers": 4} if part == "norm" else {})}
                      for part, value in LLAMA_SWAPS.items()}}, "also changes"),
])
def test_the_check_fails_a_lesson_that_swaps_otherwise(swaps, words):
    with pytest.raises(AssertionError, match=words):
        check_one_part_at_a_time(swaps)


def test_the_variants_start_from_mini_gpts_recipe():
    source = config_cell()
    assert "shipped_gpt_config(tokenizer)" in source, "07b starts from the shipped mini-GPT's config"
    assert "base.replace(**so_far)" in source, "every variant is the recipe's config with the swaps so far"
