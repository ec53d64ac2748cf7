"""The course's newer exercises (masks, one head, positions, MLM, sampling, pooling).

Correct solutions are written the way a student would (plain torch, no
library helpers); each typical mistake must fail with the exercise's name
and the mistake spelled out, so a student knows which task and what to fix.
"""

from __future__ import annotations

import math

import pytest
import torch

from minitransformers import exercises
from minitransformers.data.mlm import mask_tokens
from minitransformers.exercises.pipeline_exercises import apply_mlm_rule


def causal_ok(t):
    return torch.arange(t)[None, :] <= torch.arange(t)[:, None]


def padding_ok(attention_mask):
    return (attention_mask == 1)[:, None, None, :]


def head_ok(x, w_query, w_key, w_value, mask):
    q, k, v = x @ w_query, x @ w_key, x @ w_value
    scores = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~mask, -1e30)
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


def positions_ok(t, c):
    out = torch.zeros(t, c)
    for p in range(t):
        for f in range(c // 2):
            angle = p * 10000 ** (-2 * f / c)
            out[p, 2 * f], out[p, 2 * f + 1] = math.sin(angle), math.cos(angle)
    return out


def mlm_ok(input_ids, selected, fate, random_ids, mask_token_id):
    masked = input_ids.clone()
    masked[selected & (fate < 0.8)] = mask_token_id
    use_random = selected & (fate >= 0.8) & (fate < 0.9)
    masked[use_random] = random_ids[use_random]
    labels = torch.full_like(input_ids, -100)
    labels[selected] = input_ids[selected]
    return masked, labels


def sampling_ok(logits, temperature, top_k):
    scaled = logits / temperature
    threshold = scaled.topk(top_k, dim=-1).values[:, -1:]
    return scaled.masked_fill(scaled < threshold, float("-inf")).softmax(dim=-1)


def mean_ok(hidden_states, attention_mask):
    weights = attention_mask[..., None].float()
    return (hidden_states * weights).sum(1) / weights.sum(1)


def last_ok(hidden_states, attention_mask):
    last = attention_mask.sum(1) - 1
    return hidden_states[torch.arange(hidden_states.shape[0]), last]


@pytest.mark.parametrize("name, solution", [
    ("causal_mask", causal_ok), ("causal_mask", lambda t: torch.ones(t, t).tril().bool()),
    ("padding_mask", padding_ok), ("attention_head", head_ok), ("sinusoidal_positions", positions_ok),
    ("mlm_masking", mlm_ok), ("sampling_step", sampling_ok), ("mean_pooling", mean_ok),
    ("last_token_pooling", last_ok),
])
def test_correct_solutions_pass(name, solution):
    result = exercises.check(name, solution)
    assert result.passed, result.message
    assert result.message.startswith(f"✓ {name}")


def _head_unscaled(x, wq, wk, wv, mask):
    q, k, v = x @ wq, x @ wk, x @ wv
    weights = (q @ k.transpose(-2, -1)).masked_fill(~mask, -1e30).softmax(-1)
    return weights @ v, weights


def _head_scaled_by_width(x, wq, wk, wv, mask):
    q, k, v = x @ wq, x @ wk, x @ wv
    weights = (q @ k.transpose(-2, -1) / math.sqrt(x.shape[-1])).masked_fill(~mask, -1e30).softmax(-1)
    return weights @ v, weights


def _head_mask_after(x, wq, wk, wv, mask):
    q, k, v = x @ wq, x @ wk, x @ wv
    weights = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1) * mask
    return weights @ v, weights


def _head_with_mask(x, wq, wk, wv, mask):
    q, k, v = x @ wq, x @ wk, x @ wv
    weights = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~mask, -1e30).softmax(-1)
    return weights @ v, weights


def _head_mask_upside_down(x, wq, wk, wv, mask):
    t = x.shape[1]
    return _head_with_mask(x, wq, wk, wv, torch.ones(t, t, dtype=torch.bool).triu())  # built as the upper triangle


def _head_without_mask(x, wq, wk, wv, mask):
    q, k, v = x @ wq, x @ wk, x @ wv
    weights = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1)
    return weights @ v, weights


def _head_scaled_by_tokens(x, wq, wk, wv, mask):
    q, k, v = x @ wq, x @ wk, x @ wv
    weights = (q @ k.transpose(-2, -1) / math.sqrt(x.shape[1])).masked_fill(~mask, -1e30).softmax(-1)
    return weights @ v, weights


def _scores_scaled_by_tokens(q, k):
    return q @ k.transpose(-2, -1) / math.sqrt(q.shape[2])


def _attention_scaled_by_tokens(q, k, v, mask):
    weights = _scores_scaled_by_tokens(q, k).masked_fill(~mask, -1e30).softmax(-1) * mask.any(-1, keepdim=True)
    return weights @ v, weights


def _mlm_random_and_kept_swapped(input_ids, selected, fate, random_ids, mask_token_id):
    masked = input_ids.clone()
    masked[selected & (fate < 0.8)] = mask_token_id
    use_random = selected & (fate >= 0.9)  # should be 0.8 <= fate < 0.9
    masked[use_random] = random_ids[use_random]
    return masked, torch.where(selected, input_ids, -100)


def _positions_concatenated(t, c):
    angles = torch.arange(t)[:, None] * 10000 ** (-2 * torch.arange(c // 2) / c)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def _mlm_all_masked(input_ids, selected, fate, random_ids, mask_token_id):
    return torch.where(selected, mask_token_id, input_ids), torch.where(selected, input_ids, -100)


def _mlm_labels_everywhere(input_ids, selected, fate, random_ids, mask_token_id):
    return mlm_ok(input_ids, selected, fate, random_ids, mask_token_id)[0], input_ids.clone()


def _sampling_not_renormalised(logits, temperature, top_k):
    probabilities = (logits / temperature).softmax(-1)
    threshold = probabilities.topk(top_k, dim=-1).values[:, -1:]
    return probabilities * (probabilities >= threshold)


@pytest.mark.parametrize("name, wrong, mistake, words", [
    ("causal_mask", lambda t: torch.ones(t, t).triu().bool(), "upper_triangle", "upper triangle"),
    ("causal_mask", lambda t: torch.ones(t, t).tril(-1).bool(), "diagonal_hidden", "must see itself"),
    ("causal_mask", lambda t: torch.ones(t, t).bool(), "all_true", "bidirectional"),
    ("padding_mask", lambda m: (m == 1)[:, None, :, None], "hides_queries", "as *keys*"),
    ("padding_mask", lambda m: (m == 0)[:, None, None, :], "inverted", "True on the padding"),
    ("padding_mask", lambda m: m == 1, "no_broadcast_dims", "(b 1 1 s)"),
    ("attention_head", _head_unscaled, "missing_scale", "not divided by sqrt(d)"),
    ("attention_head", _head_scaled_by_width, "scale_by_width", "model width"),
    ("attention_head", _head_mask_after, "mask_after_softmax", "after softmax"),
    ("attention_head", _head_mask_upside_down, "upside_down_mask", "Your mask is upside down"),
    ("attention_head", lambda x, wq, wk, wv, mask: _head_with_mask(x, wq, wk, wv, ~mask), "inverted_mask",
     "True means 'may attend'"),
    ("attention_head", _head_without_mask, "no_mask", "ignores the mask"),
    ("attention_head", _head_scaled_by_tokens, "scale_by_tokens", "sqrt(t), the number of tokens"),
    ("attention_scores", _scores_scaled_by_tokens, "scale_by_tokens", "sqrt(t), the number of tokens"),
    ("attention", _attention_scaled_by_tokens, "scale_by_tokens", "sqrt(t), the number of tokens"),
    ("sinusoidal_positions", _positions_concatenated, "concatenated", "interleaved"),
    ("mlm_masking", _mlm_all_masked, "always_mask", "random token in 10%"),
    ("mlm_masking", _mlm_labels_everywhere, "labels_everywhere", "-100"),
    ("mlm_masking", _mlm_random_and_kept_swapped, "random_and_kept_swapped", "swapped the two 10% cases"),
    ("sampling_step", lambda logits, t, k: sampling_ok(logits * t * t, t, k), "temperature_multiplied", "divide"),
    ("sampling_step", _sampling_not_renormalised, "top_k_not_renormalised", "sums to 1"),
    ("mean_pooling", lambda h, m: h.mean(1), "padding_included", "padding included"),
    ("mean_pooling", lambda h, m: (h * m[..., None]).sum(1), "sum_not_mean", "without dividing"),
    ("last_token_pooling", lambda h, m: h[:, -1], "last_position", "last real token"),
])
def test_typical_mistakes_are_named_with_the_task(name, wrong, mistake, words):
    result = exercises.check(name, wrong)
    assert not result.passed
    assert result.mistake == mistake, result.message
    assert words in result.message
    assert result.message.startswith(f"✗ {name}: trial")


def test_a_float_or_additive_mask_is_told_to_be_bool():
    additive = exercises.check("causal_mask", lambda t: torch.zeros(t, t).masked_fill(~causal_ok(t), -1e9))
    assert not additive.passed and "should be a bool tensor" in additive.message
    integer = exercises.check("padding_mask", lambda m: m[:, None, None, :])
    assert "should be a bool tensor" in integer.message and "causal_mask" not in integer.message


def test_float_labels_are_told_to_be_integer_ids():
    def float_labels(*args):
        masked, labels = mlm_ok(*args)
        return masked, labels.float()

    result = exercises.check("mlm_masking", float_labels)
    assert "`labels` has dtype torch.float32; it should hold integer ids" in result.message


def test_the_mlm_reference_agrees_with_the_librarys_mask_tokens():
    # mask_tokens draws, in order: which tokens are selected, a fate per token, random ids.
    input_ids = torch.randint(5, 100, (4, 32), generator=torch.Generator().manual_seed(1))
    library = mask_tokens(input_ids, mask_token_id=4, vocab_size=100, mask_probability=0.3,
                          generator=torch.Generator().manual_seed(7))
    draws = torch.Generator().manual_seed(7)
    selected = torch.bernoulli(torch.full(input_ids.shape, 0.3), generator=draws).bool()
    fate = torch.rand(input_ids.shape, generator=draws)
    random_ids = torch.randint(100, input_ids.shape, generator=draws)
    ours = apply_mlm_rule(input_ids, selected, fate, random_ids, 4)
    assert selected.sum() > 10
    assert torch.equal(ours[0], library[0]) and torch.equal(ours[1], library[1])


def test_a_stub_is_reported_as_not_written_yet_with_its_hint():
    def stub(t):
        raise NotImplementedError("Task 'causal_mask': write stub(). Hint: compare positions")

    result = exercises.check("causal_mask", stub)
    assert not result.passed
    assert result.message == ("✗ causal_mask: not written yet (NotImplementedError: Task 'causal_mask': "
                              "write stub(). Hint: compare positions)")
    with pytest.raises(exercises.ExerciseNotPassed, match="causal_mask: not written yet"):
        exercises.check("causal_mask", stub, stop=True)
    assert exercises.check("causal_mask", causal_ok, stop=True).passed
