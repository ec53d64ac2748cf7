"""The plateau's instruments (notebook 04c): hidden-state similarity, and attention entropy per layer.

Expected values come from geometry a reader can check by hand (the same
vector everywhere, one-hot vectors, a vector and its opposite, three vectors
in a plane), not from the function under test.
"""

from __future__ import annotations

import math

import pytest
import torch

import minitransformers
from minitransformers.inspection import head_entropy, hidden_state_similarity


def test_the_same_direction_at_every_position_gives_one():
    vector = torch.randn(16)
    scales = torch.tensor([0.5, 1.0, 3.0, 7.0, 0.1])  # lengths differ, the direction does not
    hidden = (scales[:, None] * vector)[None]  # (1 t c)
    assert torch.allclose(hidden_state_similarity(hidden), torch.ones(1), atol=1e-6)


def test_orthogonal_positions_give_zero_and_opposite_ones_minus_one():
    assert torch.allclose(hidden_state_similarity(torch.eye(5, 8)[None]), torch.zeros(1), atol=1e-7)
    vector = torch.randn(8)
    assert torch.allclose(hidden_state_similarity(torch.stack([vector, -vector])[None]), -torch.ones(1), atol=1e-6)


def test_three_vectors_in_a_plane_give_the_mean_of_their_three_cosines():
    hidden = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]])
    # cos(x, y) = 0, cos(x, x + y) = cos(y, x + y) = 1 / sqrt(2); the self-pairs are left out
    expected = (0 + 2 / math.sqrt(2)) / 3
    assert hidden_state_similarity(hidden).item() == pytest.approx(expected, abs=1e-6)


def test_padding_is_left_out_when_a_mask_is_given():
    vector = torch.randn(6)
    real = vector.expand(3, 6)
    pads = torch.eye(2, 6) * -5.0  # unrelated directions at the two padded positions
    hidden = torch.cat([real, pads])[None]  # (1 5 c)
    mask = torch.tensor([[1, 1, 1, 0, 0]])
    assert hidden_state_similarity(hidden, mask).item() == pytest.approx(1.0, abs=1e-6)
    assert hidden_state_similarity(hidden).item() < 0.9  # counted, the pads pull it down


def test_each_example_and_each_layer_gets_its_own_value():
    same = torch.randn(4).expand(3, 4)
    orthogonal = torch.eye(3, 4)
    layer = torch.stack([same, orthogonal])  # (b t c), b = 2
    assert torch.allclose(hidden_state_similarity(layer), torch.tensor([1.0, 0.0]), atol=1e-6)
    stack = torch.stack([layer, layer.flip(0)])  # (l b t c)
    assert torch.allclose(hidden_state_similarity(stack), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), atol=1e-6)


def test_it_is_exported_and_reads_a_models_hidden_states():
    assert minitransformers.hidden_state_similarity is hidden_state_similarity
    config = minitransformers.BertConfig.preset("tiny", vocab_size=50, max_positions=16)
    model = minitransformers.BertModel(config).eval()
    ids = torch.randint(5, 50, (2, 10))
    mask = torch.ones(2, 10, dtype=torch.long)
    mask[1, 7:] = 0
    out = model(ids, attention_mask=mask, output_hidden_states=True)
    per_layer = hidden_state_similarity(torch.stack(out.hidden_states), mask)
    assert per_layer.shape == (config.n_layers + 1, 2)
    assert ((per_layer > -1 - 1e-6) & (per_layer < 1 + 1e-6)).all()


@pytest.mark.parametrize("hidden, mask, words", [
    (torch.randn(5, 8), None, "add the batch axis"),
    (torch.randn(2, 5, 8), torch.ones(2, 4), r"expected \(batch, positions\) = \(2, 5\)"),
    (torch.randn(2, 5, 8), torch.tensor([[1, 1, 0, 0, 0], [1, 0, 0, 0, 0]]), r"examples \[1\] have fewer than 2"),
])
def test_wrong_inputs_are_refused_by_name(hidden, mask, words):
    with pytest.raises(ValueError, match=words):
        hidden_state_similarity(hidden, mask)


def test_attention_entropy_per_layer_is_zero_for_one_key_and_one_for_an_even_spread():
    t = 6
    one_key = torch.zeros(1, 2, t, t)
    one_key[..., 0] = 1.0  # every query looks at the first key only
    even = torch.full((1, 2, t, t), 1.0 / t)
    per_head = head_entropy([one_key, even], normalize=True)  # (l h)
    assert torch.allclose(per_head.mean(dim=-1), torch.tensor([0.0, 1.0]), atol=1e-6)
