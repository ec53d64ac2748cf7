"""Exercise mode: correct code passes (the library's own function is refused: test_exercises_grader.py);
typical student mistakes fail with the right message.

The "student" solutions below are written the way a student would write
them (plain torch, no library helpers), so they are independent of the
mistake generators inside the checker.
"""

from __future__ import annotations

import math

import pytest
import torch

from minitransformers import exercises
from minitransformers.attention import mask_scores, masked_softmax


def scores_ok(q, k):
    return q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])


def weights_ok(scores, mask):
    weights = torch.softmax(scores.masked_fill(~mask, -1e30), dim=-1)
    return weights * mask.any(dim=-1, keepdim=True)


def attention_ok(q, k, v, mask):
    weights = weights_ok(scores_ok(q, k), mask)
    return weights @ v, weights


def split_ok(x, n_heads):
    b, t, c = x.shape
    return x.view(b, t, n_heads, c // n_heads).transpose(1, 2)


def merge_ok(x):
    b, h, t, d = x.shape
    return x.transpose(1, 2).reshape(b, t, h * d)


def block_ok(x, mask, attention, attention_norm, feedforward, feedforward_norm):
    x = attention_norm(x + attention(x, mask))
    return feedforward_norm(x + feedforward(x))


def cache_step_ok(q, k, v, cached_keys, cached_values):
    keys, values = torch.cat([cached_keys, k], dim=2), torch.cat([cached_values, v], dim=2)
    return torch.softmax(scores_ok(q, keys), dim=-1) @ values, keys, values


def test_listing_and_unknown_names():
    assert exercises.list_exercises() == [
        "causal_mask", "padding_mask", "attention_scores", "masking", "attention", "attention_head",
        "split_heads", "merge_heads", "encoder_block", "sinusoidal_positions", "mlm_masking", "sampling_step",
        "kv_cache_step", "plateau_baselines", "mean_pooling", "last_token_pooling",
        "rms_norm", "rotary",
        "logit_lens_layer", "induction_score", "your_gpt", "your_gpt_generate", "your_bert",
    ]
    assert "sqrt(d)" in exercises.describe("attention_scores")
    with pytest.raises(ValueError, match=r"unknown exercise 'attn'; choose one of \['causal_mask'"):
        exercises.check("attn", scores_ok)


@pytest.mark.parametrize("name, solution", [
    ("masking", lambda scores, mask: masked_softmax(mask_scores(scores, mask), mask)),  # the library inside ...
    ("attention_scores", scores_ok),  # ... and correct student code written differently
    ("masking", weights_ok),
    ("attention", attention_ok),
    ("split_heads", split_ok),
    ("merge_heads", merge_ok),
    ("encoder_block", block_ok),
    ("kv_cache_step", cache_step_ok),
])
def test_correct_solutions_pass(name, solution):
    result = exercises.check(name, solution)
    assert result.passed and bool(result), result.message
    assert result.message.startswith(f"✓ {name}")


def _mask_after_softmax(scores, mask):
    return torch.softmax(scores, dim=-1) * mask


def _attention_mask_after_softmax(q, k, v, mask):
    weights = _mask_after_softmax(scores_ok(q, k), mask)
    return weights @ v, weights


def _attention_no_scale(q, k, v, mask):
    weights = weights_ok(q @ k.transpose(-2, -1), mask)
    return weights @ v, weights


def _pre_ln(x, mask, attention, attention_norm, feedforward, feedforward_norm):
    x = x + attention(attention_norm(x), mask)
    return x + feedforward(feedforward_norm(x))


def _no_residual(x, mask, attention, attention_norm, feedforward, feedforward_norm):
    return feedforward_norm(feedforward(attention_norm(attention(x, mask))))


def _attend_first(q, k, v, cached_keys, cached_values):
    output = torch.softmax(scores_ok(q, cached_keys), dim=-1) @ cached_values
    return output, torch.cat([cached_keys, k], dim=2), torch.cat([cached_values, v], dim=2)


@pytest.mark.parametrize("name, wrong, mistake, words", [
    ("attention_scores", lambda q, k: q @ k.transpose(-2, -1), "missing_scale", "not divided by sqrt(d)"),
    ("attention_scores", lambda q, k: k @ q.transpose(-2, -1) / math.sqrt(q.shape[-1]), "wrong_transpose",
     "transposed"),
    ("attention_scores", lambda q, k: q @ k.transpose(-2, -1) / q.shape[-1], "divided_by_d", "divided by d"),
    ("masking", _mask_after_softmax, "mask_after_softmax", "mask after softmax"),
    ("masking", lambda s, m: torch.softmax(s.masked_fill(~m, 0), -1), "filled_with_zero", "exp(0) = 1"),
    ("masking", lambda s, m: torch.softmax(s.masked_fill(m, -1e30), -1) * ~m, "inverted_mask", "True means"),
    ("masking", lambda s, m: torch.softmax(s.masked_fill(~m, -torch.inf), -1), "minus_infinity_fill", "NaN"),
    ("masking", lambda s, m: torch.softmax(s.masked_fill(~m, -1e30), -1), "fully_masked_row_uniform", "no key"),
    ("attention", _attention_no_scale, "missing_scale", "not divided by sqrt(d)"),
    ("attention", _attention_mask_after_softmax, "mask_after_softmax", "mask after softmax"),
    ("split_heads", lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1), "wrong_transpose", "then transpose"),
    ("split_heads", lambda x, h: x.view(*x.shape[:2], -1, h).permute(0, 3, 1, 2), "heads_interleaved",
     "interleaved"),
    ("merge_heads", lambda x: x.reshape(x.shape[0], x.shape[2], -1), "wrong_transpose", "transpose"),
    ("encoder_block", _pre_ln, "pre_ln", "post-LN"),
    ("encoder_block", _no_residual, "missing_residual", "residual connections are missing"),
    ("kv_cache_step", _attend_first, "attend_before_append", "append the new token"),
])
def test_typical_mistakes_are_named(name, wrong, mistake, words):
    result = exercises.check(name, wrong)
    assert not result.passed and not result
    assert result.mistake == mistake, result.message
    assert words in result.message
    assert result.message.startswith(f"✗ {name}: trial")


def test_shape_errors_say_which_shape_and_why():
    result = exercises.check("split_heads", lambda x, h: x.view(x.shape[0], x.shape[1], h, -1))
    assert "`heads` has shape (2, 4, 3, 8) but should have shape (2, 3, 4, 8)" in result.message
    assert "another order" in result.message and result.mistake is None
    result = exercises.check("attention_scores", lambda q, k: scores_ok(q, k).sum(dim=1))
    assert "3 dimensions instead of 4" in result.message


def test_value_errors_say_where_and_spot_a_constant_factor():
    result = exercises.check("attention_scores", lambda q, k: 2 * scores_ok(q, k))
    assert "has the right shape (2, 3, 4, 4) but 96 of 96 values differ" in result.message
    assert "2 times the expected one" in result.message and "Hint:" in result.message
    result = exercises.check("attention", lambda q, k, v, m: attention_ok(q, k, v, m)[0])
    assert "expected a tuple of 2 values (output, weights), got a Tensor" in result.message


def test_errors_raised_by_the_student_are_reported_not_raised():
    result = exercises.check("kv_cache_step", lambda q, k, v, ck, cv: torch.cat([ck, k], dim=1))
    assert not result.passed
    assert "Your function raised RuntimeError: Sizes of tensors must match" in result.message
    assert "cached_keys (2, 3, 4, 8)" in result.message  # which inputs it was given


def test_in_place_edits_by_the_student_do_not_change_the_reference():
    def sneaky(scores, mask):
        scores.zero_()
        return weights_ok(scores, mask)

    assert not exercises.check("masking", sneaky).passed


# --- a query that may see no key (issue 35, item 18) ------------------------------------------------

def _textbook_attention(q, k, v, mask):
    """The textbook masked softmax: hidden scores to -inf, softmax. A row with every key hidden is NaN."""
    scores = scores_ok(q, k).masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def _uniform_attention(q, k, v, mask):
    """Hidden scores to a very negative number: a row with every key hidden is spread evenly."""
    weights = torch.softmax(scores_ok(q, k).masked_fill(~mask, -1e30), dim=-1)
    return weights @ v, weights


@pytest.mark.parametrize("name, wrong, gave", [
    ("attention", _textbook_attention, "your function gave it NaN"),
    ("masking", lambda s, m: torch.softmax(s.masked_fill(~m, -torch.inf), -1), "your function gave it NaN"),
    ("attention", _uniform_attention, "your function spread its weight evenly over keys it may not see"),
])
def test_the_other_convention_for_a_query_that_sees_no_key_is_named_with_the_librarys_rule(name, wrong, gave):
    result = exercises.check(name, wrong)
    assert not result.passed and result.mistake in ("minus_infinity_fill", "fully_masked_row_uniform")
    problem = result.message.splitlines()[1]
    assert problem.startswith("Only the query that may see no key is wrong: the library gives it all-zero "
                              "weights (and a zero output)"), result.message
    assert gave in problem, result.message


def _masks_hide_every_key_of_a_query(exercise) -> bool:
    generator = torch.Generator().manual_seed(0)
    masks = [exercise.make_inputs(generator, trial).get("mask") for trial in range(exercise.n_trials)]
    return any(isinstance(mask, torch.Tensor) and (~mask.any(dim=-1)).any() for mask in masks)


def test_every_task_that_grades_a_query_without_keys_states_the_rule_before_it():
    """The statement and the notebook's task text both say what such a row must be, before the student writes."""
    import re
    from pathlib import Path

    import nbformat

    ruled = [name for name, exercise in exercises.EXERCISES.items()
             if not name.startswith("your_") and _masks_hide_every_key_of_a_query(exercise)]
    assert sorted(ruled) == ["attention", "masking"]
    rule = re.compile(r"(no key|every key is masked)[^.]*\b(zeros?|0)\b")  # "... may see no key gets zero weights"
    for name in ruled:
        assert rule.search(exercises.describe(name).replace("*", "")), (name, exercises.describe(name))
    notebooks = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
    graded = 0
    for path in notebooks:
        cells = nbformat.read(path, as_version=4).cells
        for index, cell in enumerate(cells):
            if "solution" in cell.metadata.get("tags", []) and cell.metadata.get("exercise") in ruled:
                task = next(above.source for above in reversed(cells[:index]) if above.cell_type == "markdown")
                assert rule.search(task.replace("*", "")), f"{path.name}, the task above cell {index}: {task}"
                graded += 1
    assert graded >= 3  # 02's masking, 07's and 09's attention


def test_a_textbook_masked_softmax_passes_notebook_1s_head_whose_mask_always_leaves_a_key():
    # 01's Task 2 uses GPT's causal mask: every query sees itself, so -inf can never make a row NaN there.
    def textbook_head(x, w_query, w_key, w_value, mask):
        q, k, v = x @ w_query, x @ w_key, x @ w_value
        weights = torch.softmax(scores_ok(q, k).masked_fill(~mask, float("-inf")), dim=-1)
        return weights @ v, weights

    assert not _masks_hide_every_key_of_a_query(exercises.EXERCISES["attention_head"])
    assert exercises.check("attention_head", textbook_head).passed
