"""Tests for causal-LM blocks (minitransformers/data/lm_dataset.py)."""

import pytest
import torch

from minitransformers.data import CausalLMDataset, concatenate_ids


def test_blocks_are_contiguous_and_cover_the_stream():
    stream = torch.arange(10)
    dataset = CausalLMDataset(stream, block_size=4)
    assert len(dataset) == 2  # the 2 leftover tokens do not make a block
    assert dataset[0]["input_ids"].tolist() == [0, 1, 2, 3]
    assert dataset[1]["input_ids"].tolist() == [4, 5, 6, 7]
    assert dataset[-1]["input_ids"].tolist() == [4, 5, 6, 7]
    joined = torch.cat([dataset[i]["input_ids"] for i in range(len(dataset))])
    assert torch.equal(joined, stream[:8])


def test_labels_equal_inputs_and_are_a_separate_tensor():
    dataset = CausalLMDataset(list(range(100, 120)), block_size=5)
    item = dataset[2]
    assert item["input_ids"].dtype == torch.long
    assert torch.equal(item["input_ids"], item["labels"])
    item["labels"][0] = -100  # a model masking labels in place must not touch the inputs
    assert item["input_ids"][0] == 110


def test_stride_gives_overlapping_blocks():
    dataset = CausalLMDataset(torch.arange(10), block_size=4, stride=2)
    starts = [dataset[i]["input_ids"][0].item() for i in range(len(dataset))]
    assert starts == [0, 2, 4, 6]
    assert dataset[3]["input_ids"].tolist() == [6, 7, 8, 9]


def test_too_little_text_is_a_clear_error():
    with pytest.raises(ValueError, match="fewer than block_size"):
        CausalLMDataset([1, 2, 3], block_size=8)
    with pytest.raises(IndexError):
        CausalLMDataset(torch.arange(8), block_size=4)[2]


def test_concatenate_ids_puts_a_separator_after_each_document():
    flat = concatenate_ids([[1, 2], torch.tensor([3]), []], separator_id=0)
    assert flat.tolist() == [1, 2, 0, 3, 0, 0]
    assert concatenate_ids([[5, 6], [7]]).tolist() == [5, 6, 7]
