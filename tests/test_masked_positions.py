"""Sparse prediction (``MaskedPositionsLoss``): the dense loss and its gradients, computed at fewer positions."""

from __future__ import annotations

import pytest
import torch

from minitransformers import BertConfig, BertForPreTraining, GPTConfig, GPTLMHeadModel
from minitransformers.data import IGNORE_INDEX
from minitransformers.training.masked_positions import MaskedPositionsLoss


def _model_and_batch(seed: int = 0, mask_share: float = 0.4):
    torch.manual_seed(seed)
    config = BertConfig.preset("tiny", vocab_size=97, hidden_dropout=0.0, attention_dropout=0.0)
    model = BertForPreTraining(config)
    g = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(5, 97, (3, 20), generator=g)
    attention_mask = torch.ones_like(ids)
    attention_mask[2, 14:] = 0  # one padded row: padding is never labelled
    labels = torch.where(torch.rand(ids.shape, generator=g) < mask_share, ids, IGNORE_INDEX)
    labels[attention_mask == 0] = IGNORE_INDEX
    batch = {"input_ids": ids, "attention_mask": attention_mask,
             "token_type_ids": (torch.arange(20) >= 10).long().expand(3, 20), "labels": labels,
             "next_sentence_label": torch.tensor([0, 1, 0])}
    return model, batch


def _gradients(model) -> dict[str, torch.Tensor]:
    return {name: parameter.grad.clone() for name, parameter in model.named_parameters()
            if parameter.grad is not None}


@pytest.mark.parametrize("with_nsp", [True, False])
def test_loss_and_every_gradient_equal_the_dense_computation(with_nsp):
    model, batch = _model_and_batch()
    if not with_nsp:
        batch.pop("next_sentence_label")
    dense_loss = model(**batch).loss
    dense_loss.backward()
    dense = _gradients(model)
    model.zero_grad(set_to_none=True)
    sparse_loss = MaskedPositionsLoss(model)(**batch).loss
    sparse_loss.backward()
    sparse = _gradients(model)
    torch.testing.assert_close(sparse_loss, dense_loss, rtol=1e-6, atol=1e-6)
    assert sparse.keys() == dense.keys()  # the same parameters get a gradient (the tied decoder too)
    for name in dense:
        torch.testing.assert_close(sparse[name], dense[name], rtol=1e-5, atol=1e-6, msg=name)


def test_the_labels_decide_the_loss_not_the_other_positions():
    # Changing a label changes the loss; the dense mean over labelled positions is what both compute.
    model, batch = _model_and_batch()
    wrapped = MaskedPositionsLoss(model)
    before = wrapped(**batch).loss
    chosen = (batch["labels"] != IGNORE_INDEX).nonzero()[0]
    batch["labels"][tuple(chosen)] = (batch["labels"][tuple(chosen)] + 1) % 97
    assert not torch.allclose(wrapped(**batch).loss, before)
    torch.testing.assert_close(wrapped(**batch).loss, model(**batch).loss, rtol=1e-6, atol=1e-6)


def test_it_shares_the_models_weights_and_config():
    model, _ = _model_and_batch()
    wrapped = MaskedPositionsLoss(model)
    assert wrapped.config is model.config
    assert {id(p) for p in wrapped.parameters()} == {id(p) for p in model.parameters()}


def test_a_model_without_bert_heads_or_a_batch_without_labels_is_a_clear_error():
    with pytest.raises(TypeError, match="wraps a BertForPreTraining"):
        MaskedPositionsLoss(GPTLMHeadModel(GPTConfig.preset("tiny", vocab_size=50)))
    model, batch = _model_and_batch()
    batch.pop("labels")
    with pytest.raises(ValueError, match="needs labels"):
        MaskedPositionsLoss(model)(**batch)
