"""The grader cannot be fooled or crashed: in-place edits fail, a wrong device gets the grader's own message,
a tensor subclass cannot vouch for itself."""

from __future__ import annotations

import math

import torch

from minitransformers import exercises


def _weights_in_place(scores, mask):
    scores.masked_fill_(~mask, torch.finfo(scores.dtype).min)  # changes the caller's scores
    return torch.softmax(scores, dim=-1) * mask.any(dim=-1, keepdim=True)


def test_a_function_that_changes_its_input_in_place_fails_and_is_told_so():
    result = exercises.check("masking", _weights_in_place)
    assert not result.passed and result.mistake == "modified_input"
    assert "changed its input `scores` in place" in result.message and "masked_fill_" in result.message


def test_an_in_place_edit_of_a_scratch_copy_is_fine():
    def weights(scores, mask):
        hidden = scores.clone()
        hidden.masked_fill_(~mask, torch.finfo(scores.dtype).min)
        return torch.softmax(hidden, dim=-1) * mask.any(dim=-1, keepdim=True)

    assert exercises.check("masking", weights).passed


def test_right_values_on_another_device_get_the_graders_message():
    # The meta device stands in for a GPU: same values (none, in fact), another device.
    result = exercises.check("causal_mask", lambda t: torch.ones(t, t, dtype=torch.bool).tril().to("meta"))
    assert not result.passed
    assert "`mask` is on the device meta, but the inputs are on cpu" in result.message
    scores = exercises.check("attention_scores", lambda q, k: (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).to(
        "meta"))
    assert "is on the device meta" in scores.message


class _AlwaysClose(torch.Tensor):
    """A tensor that answers True to every comparison, whatever its values."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("isclose", "eq", "__eq__", "equal", "allclose"):
            return True if name in ("equal", "allclose") else torch.ones(args[0].shape, dtype=torch.bool)
        if name in ("all", "any"):
            return torch.tensor(True)
        if name == "as_subclass":  # it even refuses to be turned into a plain tensor
            return args[0]
        return super().__torch_function__(func, types, args, kwargs or {})


def test_a_tensor_subclass_that_lies_about_comparisons_cannot_pass():
    liar = torch.zeros(3).as_subclass(_AlwaysClose)
    assert torch.isclose(liar, torch.ones(3)).all() and torch.equal(liar, torch.ones(3))  # it does lie
    result = exercises.check("causal_mask", lambda t: torch.zeros(t, t, dtype=torch.bool).as_subclass(_AlwaysClose))
    assert not result.passed and "values differ" in result.message
    scores = exercises.check("attention_scores",
                             lambda q, k: torch.zeros(q.shape[:-1] + k.shape[-2:-1]).as_subclass(_AlwaysClose))
    assert not scores.passed


def test_a_subclass_with_the_right_values_still_passes():
    def scores(q, k):
        return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).as_subclass(_AlwaysClose)

    assert exercises.check("attention_scores", scores).passed


# --- the library's own function is not the student's answer (issue 35, item 6) ---------------------

def _library_functions():
    import functools

    from minitransformers import attend, masks
    from minitransformers.attention import attention_scores
    from minitransformers.exercises.plateau_exercises import plateau_baselines

    alias = attention_scores  # my_attention_scores = attention_scores

    @functools.wraps(attention_scores)
    def wrapped(q, k):  # a decorator's wrapper around the library's function
        return attention_scores(q, k)

    def unnamed_wrapper(q, k):
        return attention_scores(q, k)

    unnamed_wrapper.__wrapped__ = attention_scores  # what functools.wraps leaves, without the name
    return [
        ("attention_scores", attention_scores, "minitransformers.attention.attention_scores"),
        ("attention_scores", alias, "minitransformers.attention.attention_scores"),
        ("attention_scores", wrapped, "minitransformers.attention.attention_scores"),
        ("attention_scores", unnamed_wrapper, "minitransformers.attention.attention_scores"),
        ("attention", attend, "minitransformers.attention.attend"),
        ("attention", functools.partial(attend), "minitransformers.attention.attend"),
        ("causal_mask", masks.causal_mask, "minitransformers.masks.causal_mask"),
        ("plateau_baselines", plateau_baselines, "minitransformers.exercises.plateau_exercises.plateau_baselines"),
    ]


def test_the_librarys_own_function_is_refused_with_a_friendly_message():
    for name, function, library_name in _library_functions():
        result = exercises.check(name, function)
        assert not result.passed and result.mistake == "library_function", (name, result.message)
        assert result.message.startswith(f"✗ {name}: "), result.message
        assert f"the library's own {library_name}" in result.message, result.message
        assert "write it yourself" in result.message and f"exercises.describe({name!r})" in result.message
        try:
            exercises.check(name, function, stop=True)
        except exercises.ExerciseNotPassed as stop:
            assert library_name in str(stop)
        else:
            raise AssertionError("check(stop=True) let the library's own function through")


def test_a_students_function_that_calls_the_library_inside_is_still_graded_on_its_answer():
    """The refusal is of the library's function itself (by identity, through ``__wrapped__``), not of code
    that calls it: the grader grades answers, it cannot read how they were made."""
    from minitransformers.attention import attention_scores

    def my_attention_scores(q, k):
        return attention_scores(q, k)

    assert exercises.check("attention_scores", my_attention_scores).passed
