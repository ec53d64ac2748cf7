"""Notebook 7b's exercises, RMSNorm and rotary embedding: right answers pass, the usual mistakes are named.

Every function here is written as a student would write it, independently
of the grader's own mistake functions: RMSNorm with ``rsqrt`` or torch's
built-in, rotary with complex numbers (as in Meta's Llama code) or with
Hugging Face's ``rotate_half``.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from minitransformers import exercises

# --- RMSNorm ---------------------------------------------------------------------------------------


def rms_rsqrt(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight


def rms_builtin(x, weight, eps):
    return F.rms_norm(x, (x.shape[-1],), weight, eps)


def rms_layer_norm(x, weight, eps):
    return F.layer_norm(x, (x.shape[-1],), weight, None, eps)


def rms_std(x, weight, eps):
    return x / torch.sqrt(x.var(dim=-1, keepdim=True)) * weight


def rms_length(x, weight, eps):
    return F.normalize(x, dim=-1) * weight


def rms_over_tokens(x, weight, eps):
    return x / (torch.linalg.vector_norm(x, dim=1, keepdim=True) / math.sqrt(x.shape[1])) * weight


def rms_no_weight(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)


def rms_eps_outside(x, weight, eps):
    return x / (x.pow(2).mean(dim=-1, keepdim=True).sqrt() + eps) * weight


def rms_no_eps(x, weight, eps):
    return x / x.pow(2).mean(dim=-1, keepdim=True).sqrt() * weight


# --- rotary ----------------------------------------------------------------------------------------


def rotary_complex(q, k, start, base, offset=True, exponent=2.0, backwards=False, turn_keys=True, use_base=True):
    """Neighbouring pairs as complex numbers, multiplied by e^(i p theta_f); the keyword arguments break it."""
    d, t = q.shape[-1], q.shape[2]
    speeds = (base if use_base else 10000.0) ** (-exponent * torch.arange(d // 2, dtype=torch.float32) / d)
    positions = torch.arange(t, dtype=torch.float32) + (start if offset else 0)
    turn = torch.polar(torch.ones(t, d // 2), torch.outer(positions, speeds))
    turn = turn.conj() if backwards else turn

    def apply(x):
        pairs = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2).contiguous())
        return torch.view_as_real(pairs * turn).flatten(-2)

    return apply(q), apply(k) if turn_keys else k


def rotary_rotate_half(q, k, start, base):
    """Hugging Face's Llama layout: number f turns with number f + d/2."""
    d, t = q.shape[-1], q.shape[2]
    speeds = 1.0 / base ** (torch.arange(0, d, 2).float() / d)
    angles = torch.outer(torch.arange(start, start + t).float(), speeds)
    cos, sin = torch.cat([angles, angles], dim=-1).cos(), torch.cat([angles, angles], dim=-1).sin()

    def rotate_half(x):
        return torch.cat([-x[..., d // 2:], x[..., : d // 2]], dim=-1)

    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


@pytest.mark.parametrize("name, solution", [
    ("rms_norm", rms_rsqrt),
    ("rms_norm", rms_builtin),
    ("rotary", rotary_complex),
])
def test_right_answers_pass(name, solution):
    result = exercises.check(name, solution)
    assert result.passed, result.message
    assert result.message == f"✓ {name}: all 4 trials match the library."


@pytest.mark.parametrize("name, wrong, mistake, words", [
    ("rms_norm", rms_layer_norm, "mean_subtracted", "subtracted each token's mean"),
    ("rms_norm", rms_std, "divided_by_std", "standard deviation"),
    ("rms_norm", rms_length, "sum_not_mean", "length of the vector"),
    ("rms_norm", rms_over_tokens, "wrong_axis", "tokens axis"),
    ("rms_norm", rms_no_weight, "weight_forgotten", "not multiplied by weight"),
    ("rms_norm", rms_eps_outside, "eps_outside_sqrt", "after the square root"),
    ("rms_norm", rms_no_eps, "eps_forgotten", "left eps out"),
    ("rotary", rotary_rotate_half, "pairs_are_halves", "f + d/2"),
    ("rotary", lambda q, k, start, base: rotary_complex(q, k, start, base, offset=False),
     "positions_not_offset", "already in the KV cache"),
    ("rotary", lambda q, k, start, base: rotary_complex(q, k, start, base, exponent=1.0),
     "speeds_without_two", "-2f / d"),
    ("rotary", lambda q, k, start, base: rotary_complex(q, k, start, base, backwards=True),
     "turned_backwards", "the other way"),
    ("rotary", lambda q, k, start, base: rotary_complex(q, k, start, base, turn_keys=False),
     "keys_not_turned", "keys are not turned"),
    ("rotary", lambda q, k, start, base: rotary_complex(q, k, start, base, use_base=False),
     "base_ignored", "whatever base was given"),
])
def test_the_usual_mistakes_are_named(name, wrong, mistake, words):
    result = exercises.check(name, wrong)
    assert not result.passed and result.mistake == mistake, result.message
    assert words in result.message and f"exercises.hint({name!r}, level=2)" in result.message


def test_an_unknown_mistake_says_where_the_values_differ_and_offers_the_hint():
    result = exercises.check("rms_norm", lambda x, weight, eps: rms_rsqrt(x, weight, eps) * 1.5)
    assert not result.passed and result.mistake is None
    assert "values differ" in result.message and f"Hint: {exercises.hint('rms_norm')}" in result.message


def test_the_rotary_reference_gives_scores_that_depend_on_the_distance_only():
    """The property the notebook teaches, on the grader's own reference, so that it cannot drift from it."""
    rotary = exercises.EXERCISES["rotary"].reference
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)
    scores = {(m, n): (rotary(q, q, m, 10000.0)[0] * rotary(k, k, n, 10000.0)[1]).sum().item()
              for m, n in [(3, 1), (12, 10), (2, 5), (9, 12)]}
    assert scores[(3, 1)] == pytest.approx(scores[(12, 10)], abs=1e-4)
    assert scores[(2, 5)] == pytest.approx(scores[(9, 12)], abs=1e-4)
    assert scores[(3, 1)] != pytest.approx(scores[(2, 5)], abs=1e-2)


def test_one_token_after_the_cache_is_turned_as_in_the_whole_sequence():
    rotary = exercises.EXERCISES["rotary"].reference
    q, k = torch.randn(2, 4, 6, 8), torch.randn(2, 2, 6, 8)
    whole_q, whole_k = rotary(q, k, 0, 10000.0)
    last_q, last_k = rotary(q[:, :, -1:], k[:, :, -1:], 5, 10000.0)
    assert torch.allclose(last_q, whole_q[:, :, -1:], atol=1e-6)
    assert torch.allclose(last_k, whole_k[:, :, -1:], atol=1e-6)


def test_the_statements_name_the_arguments():
    assert "x / sqrt(mean over c of x^2 + eps) * weight" in exercises.describe("rms_norm")
    assert "p = start + i" in exercises.describe("rotary") and "(x[2f], x[2f + 1])" in exercises.describe("rotary")
