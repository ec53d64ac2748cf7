"""interpret/'s head detectors given bad input (issue 36, items 5 and 9): ids and masks that are not the
patterns' input are named; which keys a query sees comes from the masks, never from weights > 0.

The patterns are built by hand and the expected scores written from the
detectors' definitions, not computed by the code under test.
"""

from __future__ import annotations

import pytest
import torch

from minitransformers.interpret import next_token_scores, previous_token_scores, sink_scores

V, T = 41, 6


def _one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message, message
    return message


# ----- item 5: ids (and masks) must match the patterns they describe ---------------------------------

PATTERNS = torch.full((2, 2, 3, T, T), 1 / T)  # (l b h t s): two inputs, uniform attention


@pytest.mark.parametrize("ids", [torch.randint(0, V, (2, T + 1)), torch.randint(0, V, (1, T)),
                                 torch.randint(0, V, (T,))], ids=["another length", "one row for two", "no batch axis"])
@pytest.mark.parametrize("token_id", [None, 7])
def test_sink_scores_refuses_ids_that_are_not_the_patterns_input(ids, token_id):
    ids = ids.clone()
    ids[..., 2] = 7
    with pytest.raises(ValueError) as raised:
        sink_scores(PATTERNS, ids, token_id=token_id)
    message = _one_line(raised)
    assert "input_ids" in message and str((2, T)) in message, message


def _sink(patterns, attention_mask):
    return sink_scores(patterns, torch.zeros(2, T, dtype=torch.long), attention_mask=attention_mask)


@pytest.mark.parametrize("detector", [previous_token_scores, next_token_scores, _sink],
                         ids=["previous", "next", "sink"])
def test_detectors_refuse_an_attention_mask_that_is_not_the_patterns_input(detector):
    with pytest.raises(ValueError) as raised:
        detector(PATTERNS, attention_mask=torch.ones(1, T + 1, dtype=torch.long))
    message = _one_line(raised)
    assert "attention_mask" in message and str((2, T)) in message, message


# ----- item 9: which keys a query sees comes from the masks, not from weights > 0 -------------------

def _one_hot(keys: list[int]) -> torch.Tensor:
    """(t t): query q puts all its weight on keys[q]."""
    pattern = torch.zeros(len(keys), len(keys))
    pattern[torch.arange(len(keys)), torch.tensor(keys)] = 1.0
    return pattern


def _underflowing_layer_0(causal: bool) -> torch.Tensor:
    """(2 1 2 t t): layer 0's heads put all weight on key 0 (softmax underflow); layer 1 is a previous-token
    head and an evenly spread one (over the keys each query can see)."""
    t = T
    even = torch.ones(t, t).tril() if causal else torch.ones(t, t)
    layer_1 = torch.stack([_one_hot([max(q - 1, 0) for q in range(t)]), even / even.sum(dim=-1, keepdim=True)])
    layer_0 = torch.stack([_one_hot([0] * t)] * 2)
    return torch.stack([layer_0, layer_1])[:, None]


@pytest.mark.parametrize("causal", [True, False], ids=["gpt-like", "bert-like"])
def test_a_layer_whose_weights_underflow_leaves_every_query_in_the_scores(causal):
    patterns = _underflowing_layer_0(causal)
    # Queries 1..t-1 have a previous token; each has a choice of keys (query 0 of a causal model has none).
    queries = range(1, T)
    even = [1 / (q + 1) if causal else 1 / T for q in queries]
    expected = torch.tensor([[1 / len(queries)] * 2, [1.0, sum(even) / len(queries)]])
    torch.testing.assert_close(previous_token_scores(patterns), expected)
    sink_queries = range(1, T) if causal else range(T)
    previous_on_0 = sum(max(q - 1, 0) == 0 for q in sink_queries)  # the previous-token head's queries 0 and 1
    even_sink = [1 / (q + 1) if causal else 1 / T for q in sink_queries]
    n = len(sink_queries)
    expected_sink = torch.tensor([[1.0, 1.0], [previous_on_0 / n, sum(even_sink) / n]])
    torch.testing.assert_close(sink_scores(patterns, torch.zeros(1, T, dtype=torch.long)), expected_sink)


def test_a_bidirectional_model_whose_weights_all_vanish_above_the_diagonal_can_say_so():
    # Every weight above the diagonal is 0, so by default the patterns read as causal: query 0 sees one key.
    patterns = torch.stack([_one_hot([0] * T), _one_hot([max(q - 1, 0) for q in range(T)])])[None, None]
    ids = torch.zeros(1, T, dtype=torch.long)
    torch.testing.assert_close(sink_scores(patterns, ids), torch.tensor([[1.0, 1 / (T - 1)]]))
    torch.testing.assert_close(sink_scores(patterns, ids, causal=False), torch.tensor([[1.0, 2 / T]]))
    with pytest.raises(TypeError) as raised:
        previous_token_scores(patterns, causal="yes")
    assert "causal" in _one_line(raised)
