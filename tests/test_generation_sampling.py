"""The sampling rules as pure functions on logits: properties checked with hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minitransformers.generation.sampling import (
    apply_repetition_penalty,
    apply_temperature,
    choose_next_token,
    greedy,
    sample,
    top_k_filter,
    top_p_filter,
)

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def logit_rows(draw, max_vocab: int = 40):
    """A (b, v) float32 tensor of logits with moderate values."""
    b = draw(st.integers(1, 3))
    v = draw(st.integers(1, max_vocab))
    values = draw(st.lists(st.floats(-15, 15, allow_nan=False, width=32), min_size=b * v, max_size=b * v))
    return torch.tensor(values, dtype=torch.float32).reshape(b, v)


def _draws(logits: torch.Tensor, seed: int, n: int = 30) -> torch.Tensor:
    """``n`` draws per row of ``logits (b, v)`` -> ``(b, n)`` ids (one batched call)."""
    generator = torch.Generator().manual_seed(seed)
    b = logits.shape[0]
    return sample(logits.repeat(n, 1), generator).reshape(n, b).T


@SETTINGS
@given(logits=logit_rows(), k=st.integers(1, 50), seed=st.integers(0, 2**16))
def test_top_k_keeps_exactly_the_k_best_and_samples_only_them(logits, k, seed):
    filtered = top_k_filter(logits, k)
    kept = torch.isfinite(filtered)
    for row in range(logits.shape[0]):
        assert int(kept[row].sum()) == min(k, logits.shape[1])
        if not kept[row].all():  # every kept logit beats (or ties) every removed one
            assert logits[row][kept[row]].min() >= logits[row][~kept[row]].max()
        assert torch.equal(filtered[row][kept[row]], logits[row][kept[row]])
    draws = _draws(filtered, seed)
    assert bool(kept.gather(1, draws).all())


@SETTINGS
@given(logits=logit_rows(), p=st.floats(0.01, 1.0), seed=st.integers(0, 2**16))
def test_top_p_keeps_the_smallest_nucleus_and_samples_only_from_it(logits, p, seed):
    filtered = top_p_filter(logits, p)
    kept = torch.isfinite(filtered)
    probabilities = torch.softmax(logits.double(), dim=-1).numpy()
    for row in range(logits.shape[0]):
        probs, kept_row = probabilities[row], kept[row].numpy()
        assert kept_row[probs == probs.max()].any()  # a most likely token always survives
        for token in np.flatnonzero(kept_row):
            mass_above = probs[probs > probs[token]].sum()  # tokens strictly more likely
            assert mass_above < p + 1e-5  # nothing is kept once the better tokens hold p
        assert probs[kept_row].sum() >= p - 1e-5  # the nucleus holds at least p
    draws = _draws(filtered, seed)
    assert bool(kept.gather(1, draws).all())


@SETTINGS
@given(logits=logit_rows(max_vocab=12), penalty=st.floats(1.01, 5.0),
       data=st.data())
def test_repetition_penalty_lowers_seen_tokens_only(logits, penalty, data):
    b, v = logits.shape
    t = data.draw(st.integers(1, 6))
    previous = torch.tensor(data.draw(st.lists(st.integers(0, v - 1), min_size=b * t, max_size=b * t))).reshape(b, t)
    mask = torch.tensor(data.draw(st.lists(st.integers(0, 1), min_size=b * t, max_size=b * t))).reshape(b, t)
    out = apply_repetition_penalty(logits, previous, penalty, mask)
    for row in range(b):
        seen = {int(i) for i, m in zip(previous[row], mask[row]) if m == 1}
        for token in range(v):
            before, after = float(logits[row, token]), float(out[row, token])
            if token not in seen:
                assert after == before
            elif before > 0:
                assert after == pytest.approx(before / penalty, rel=1e-6)
            else:
                assert after == pytest.approx(before * penalty, rel=1e-6, abs=1e-12)


@SETTINGS
@given(logits=logit_rows(), temperature=st.floats(0.05, 10.0))
def test_temperature_keeps_the_ranking_and_scales_log_odds(logits, temperature):
    scaled = apply_temperature(logits, temperature)
    assert torch.equal(greedy(scaled), greedy(logits))
    torch.testing.assert_close(scaled * temperature, logits, rtol=1e-5, atol=1e-5)


@SETTINGS
@given(logits=logit_rows(), k=st.integers(1, 5), p=st.floats(0.1, 1.0))
def test_temperature_zero_is_greedy_whatever_the_filters(logits, k, p):
    chosen = choose_next_token(logits, temperature=0.0, top_k=k, top_p=p)
    assert torch.equal(chosen, logits.argmax(dim=-1, keepdim=True))


def test_sampling_follows_the_distribution():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1]]))
    draws = _draws(logits, seed=0, n=4000)[0]
    frequencies = torch.bincount(draws, minlength=3).float() / draws.numel()
    torch.testing.assert_close(frequencies, torch.tensor([0.7, 0.2, 0.1]), atol=0.03, rtol=0)


def test_invalid_settings_are_refused_with_the_allowed_range():
    logits = torch.zeros(1, 5)
    with pytest.raises(ValueError, match="top_k"):
        top_k_filter(logits, 0)
    with pytest.raises(ValueError, match="top_p"):
        top_p_filter(logits, 1.5)
    with pytest.raises(ValueError, match="temperature"):
        choose_next_token(logits, temperature=-1.0)
    with pytest.raises(ValueError, match="repetition_penalty"):
        apply_repetition_penalty(logits, torch.zeros(1, 2, dtype=torch.long), 0.0)
