"""The capstone grader: the notebook's own solution passes, and a wrong stage is named, the first one first.

The "student" here is the teacher's solution in notebooks/09_your_own_gpt.ipynb, run
outside the notebook; each wrong model is that solution with one part broken, the way
a student would break it (weights of the wrong layer, a missing mask, BERT's block order).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import torch

from minitransformers import exercises
from minitransformers.course import solution_cells
from minitransformers.exercises import capstone_exercises

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO_ROOT / "notebooks" / "09_your_own_gpt.ipynb"


@pytest.fixture(scope="module")
def student() -> dict:
    """The names the notebook's solution cells define, run with the notebook's own imports."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    setup = next(cell.source for cell in notebook.cells if cell.cell_type == "code")
    namespace: dict = {}
    exec("\n".join(line for line in setup.splitlines() if line.startswith(("import ", "from "))), namespace)
    for cell in solution_cells(notebook):
        exec(cell.source, namespace)
    return namespace


def _replace(weights: dict, prefix: str, source: str) -> dict:
    """The weights with every tensor under ``prefix`` taken from ``source`` instead (a loading bug)."""
    return {name: weights[name.replace(prefix, source, 1)] if name.startswith(prefix) else tensor
            for name, tensor in weights.items()}


def test_the_notebook_solution_passes_every_capstone_check(student):
    for name, function in (("your_gpt", "my_gpt"), ("your_gpt_generate", "my_generate"), ("your_bert", "my_bert")):
        result = exercises.check(name, student[function])
        assert result.passed, result.message


@pytest.mark.parametrize("broken, named", [
    (lambda w: _replace(w, "gpt.blocks.2.", "gpt.blocks.1."), "block 2"),
    (lambda w: {**w, "gpt.final_norm.weight": torch.ones_like(w["gpt.final_norm.weight"])}, "final norm"),
    (lambda w: {**w, "gpt.positional.weight": torch.zeros_like(w["gpt.positional.weight"])}, "embeddings"),
])
def test_the_first_stage_that_differs_is_named(student, broken, named):
    def wrong_gpt(ids, weights, config):
        return student["my_gpt"](ids, broken(weights), config)

    result = exercises.check("your_gpt", wrong_gpt)
    assert not result.passed
    first_line_of_feedback = result.message.splitlines()[1]
    assert first_line_of_feedback.startswith(f"`{named}` has the right shape"), result.message


def test_a_wrong_head_is_named(student):
    def head_skips_the_norm(ids, weights, config):  # the final norm computed, but the head reads the block
        *stages, final, _ = student["my_gpt"](ids, weights, config)
        return [*stages, final, stages[-1] @ weights["gpt.token_embeddings.weight"].T]

    result = exercises.check("your_gpt", head_skips_the_norm)
    assert result.message.splitlines()[1].startswith("`head` has the right shape"), result.message


def test_typical_mistakes_are_named(student, monkeypatch):
    everyone = lambda t: torch.ones(t, t, dtype=torch.bool)  # noqa: E731  (BERT's mask in a GPT)
    monkeypatch.setitem(student, "my_causal_mask", everyone)
    result = exercises.check("your_gpt", student["my_gpt"])
    assert result.mistake == "no_causal_mask" and "causal" in result.message
    monkeypatch.undo()

    def post_ln_block(x, weights, layer, config):
        name, eps, norm = f"gpt.blocks.{layer}", config.layer_norm_eps, student["my_layer_norm"]
        x = norm(x + student["my_gpt_attention"](x, weights, f"{name}.attention", config.n_heads), weights,
                 f"{name}.attention_norm", eps)
        return norm(x + student["my_feedforward"](x, weights, f"{name}.feedforward"), weights,
                    f"{name}.feedforward_norm", eps)

    monkeypatch.setitem(student, "my_decoder_block", post_ln_block)
    result = exercises.check("your_gpt", student["my_gpt"])
    assert result.mistake == "post_ln" and "pre-LN" in result.message


def test_a_wrong_bert_block_and_wrong_greedy_tokens_fail(student):
    last = capstone_exercises._shipped(capstone_exercises.SHIPPED_BERT).config.n_layers - 1  # any shipped depth

    def wrong_bert(ids, weights, config):
        return student["my_bert"](ids, _replace(weights, f"blocks.{last}.", f"blocks.{last - 1}."), config)

    result = exercises.check("your_bert", wrong_bert)
    assert result.message.splitlines()[1].startswith(f"`block {last}` has the right shape"), result.message

    def first_position_greedy(ids, weights, config, n_new):  # the argmax of the first position, not the last
        for _ in range(n_new):
            next_id = student["my_gpt"](ids, weights, config)[-1][:, 0].argmax(dim=-1, keepdim=True)
            ids = torch.cat([ids, next_id], dim=1)
        return ids

    assert not exercises.check("your_gpt_generate", first_position_greedy).passed


def test_the_stage_names_follow_the_shipped_depth():
    for name, folder, key, extra in (("your_gpt", "mini-gpt-shakespeare", "n_layer", ["final norm", "head"]),
                                     ("your_bert", "mini-bert-shakespeare", "num_hidden_layers", [])):
        n_layers = json.loads((REPO_ROOT / "weights" / folder / "config.json").read_text())[key]
        expected = ["embeddings", *(f"block {i}" for i in range(n_layers)), *extra]
        assert list(exercises.EXERCISES[name].output_names) == expected


def test_a_missing_checkpoint_says_where_it_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITRANSFORMERS_WEIGHTS", str(tmp_path))
    monkeypatch.setattr(capstone_exercises, "_shipped", capstone_exercises._shipped.__wrapped__)  # no cached model
    result_or_error = pytest.raises(FileNotFoundError, match=f"no checkpoint 'mini-gpt-shakespeare' in {tmp_path}")
    with result_or_error:
        exercises.check("your_gpt", lambda ids, weights, config: [])


class _GeluAs:
    """``torch.nn.functional`` with ``gelu`` always in one form: a student who picked the other GELU."""

    def __init__(self, approximate: str) -> None:
        self.approximate = approximate

    def __getattr__(self, name):
        return getattr(torch.nn.functional, name)

    def gelu(self, x, approximate="none"):
        return torch.nn.functional.gelu(x, approximate=self.approximate)


def test_the_other_gelu_is_named_in_gpt_and_in_bert(student, monkeypatch):
    monkeypatch.setitem(student, "F", _GeluAs("none"))  # GPT's MLP with the exact (erf) GELU
    result = exercises.check("your_gpt", student["my_gpt"])
    assert not result.passed and result.mistake == "exact_gelu", result.message
    problem = result.message.splitlines()[1]
    assert "block 0" in problem and "exact GELU" in problem and "tanh approximation" in problem, result.message

    monkeypatch.setitem(student, "F", _GeluAs("tanh"))  # BERT's MLP with GPT-2's tanh form
    result = exercises.check("your_bert", student["my_bert"])
    assert not result.passed and result.mistake == "tanh_gelu", result.message
    problem = result.message.splitlines()[1]
    assert "block 0" in problem and "tanh approximation" in problem and "exact GELU" in problem, result.message
    monkeypatch.undo()
    assert exercises.check("your_bert", student["my_bert"]).passed  # the grader's own model is as it was
    assert exercises.check("your_gpt", student["my_gpt"]).passed
