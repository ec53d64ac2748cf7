import pytest
import torch

from minitransformers.masks import (
    bidirectional_mask, causal_mask, combine_masks, padding_mask, sliding_window_mask, to_additive,
)


def test_bidirectional_is_all_true():
    assert bidirectional_mask(3, 5).shape == (3, 5)
    assert bidirectional_mask(4).all()


def test_causal_mask_matches_definition():
    mask = causal_mask(5)
    for i in range(5):
        for j in range(5):
            assert bool(mask[i, j]) == (j <= i)


def test_causal_mask_with_cached_keys_offsets_queries():
    # 2 new queries over 5 keys: the queries sit at positions 3 and 4.
    mask = causal_mask(2, 5)
    assert mask.tolist() == [[True, True, True, True, False], [True, True, True, True, True]]
    assert torch.equal(causal_mask(2, 5), causal_mask(5)[3:])


def test_causal_mask_rejects_fewer_keys_than_queries():
    with pytest.raises(ValueError, match="at least as many keys"):
        causal_mask(5, 3)


def test_padding_mask_shape_and_values():
    attention_mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    mask = padding_mask(attention_mask)
    assert mask.shape == (2, 1, 1, 3)
    assert mask[0, 0, 0].tolist() == [True, True, False]
    with pytest.raises(ValueError, match="batch, seq_len"):
        padding_mask(torch.ones(3))


def test_combine_masks_is_logical_and_and_skips_none():
    pad = padding_mask(torch.tensor([[1, 1, 0]]))
    combined = combine_masks(causal_mask(3), None, pad)
    assert combined.shape == (1, 1, 3, 3)
    expected = torch.tensor([[True, False, False], [True, True, False], [True, True, False]])
    assert torch.equal(combined[0, 0], expected)
    assert combine_masks(None, None) is None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_additive_mask_is_finite(dtype):
    additive = to_additive(causal_mask(4), dtype)
    assert additive.dtype == dtype
    assert torch.isfinite(additive).all()
    assert (additive[causal_mask(4)] == 0).all()
    assert (additive[~causal_mask(4)] < -1e3).all()


def test_sliding_window_keeps_only_recent_keys():
    mask = sliding_window_mask(5, window=2)
    for i in range(5):
        for j in range(5):
            assert bool(mask[i, j]) == (i - 2 < j <= i)
