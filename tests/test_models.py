import pytest
import torch

from minitransformers import (
    BertConfig, BertForMaskedLM, BertForPreTraining, BertForSequenceClassification, BertModel,
    GPTConfig, GPTLMHeadModel, GPTModel,
)


def _gpt(**overrides):
    return GPTModel(GPTConfig.preset("tiny", **overrides)).eval()


def _bert(**overrides):
    return BertModel(BertConfig.preset("tiny", **overrides)).eval()


def test_gpt_is_causal_and_bert_is_not():
    ids = torch.randint(0, 1000, (1, 10))
    changed = ids.clone()
    changed[0, 6] = (changed[0, 6] + 1) % 1000
    gpt, bert = _gpt(), _bert()
    gpt_before, gpt_after = gpt(ids).last_hidden_state, gpt(changed).last_hidden_state
    assert torch.allclose(gpt_before[:, :6], gpt_after[:, :6], atol=1e-6)
    assert not torch.allclose(gpt_before[:, 6:], gpt_after[:, 6:], atol=1e-3)
    bert_before, bert_after = bert(ids).last_hidden_state, bert(changed).last_hidden_state
    assert not torch.allclose(bert_before[:, :6], bert_after[:, :6], atol=1e-3)


@pytest.mark.parametrize("impl", ["manual", "sdpa"])
@pytest.mark.parametrize("kind", ["bert", "gpt"])
def test_right_padded_batch_equals_each_sequence_alone(kind, impl):
    model = _bert(attn_impl=impl) if kind == "bert" else _gpt(attn_impl=impl)
    lengths = [7, 4, 1]
    sequences = [torch.randint(1, 1000, (1, n)) for n in lengths]
    batch = torch.zeros(3, 7, dtype=torch.long)
    attention_mask = torch.zeros(3, 7, dtype=torch.long)
    for i, seq in enumerate(sequences):
        batch[i, : lengths[i]] = seq[0]
        attention_mask[i, : lengths[i]] = 1
    batched = model(batch, attention_mask=attention_mask).last_hidden_state
    for i, seq in enumerate(sequences):
        alone = model(seq).last_hidden_state
        assert torch.allclose(batched[i, : lengths[i]], alone[0], atol=1e-5)


@pytest.mark.parametrize("kind", ["bert", "gpt"])
def test_sdpa_model_equals_manual_model(kind):
    make = _bert if kind == "bert" else _gpt
    manual, fast = make(), make(attn_impl="sdpa")
    fast.load_state_dict(manual.state_dict())
    ids = torch.randint(0, 1000, (2, 9))
    attention_mask = torch.tensor([[1] * 9, [1] * 5 + [0] * 4])
    expected = manual(ids, attention_mask=attention_mask).last_hidden_state
    actual = fast(ids, attention_mask=attention_mask).last_hidden_state
    assert torch.allclose(actual, expected, atol=1e-5)


def test_fully_masked_row_stays_finite():
    # A left-padded GPT batch: the pad query at position 0 may see no key at all.
    model = _gpt()
    ids = torch.randint(0, 1000, (1, 5))
    out = model(ids, attention_mask=torch.tensor([[0, 0, 1, 1, 1]])).last_hidden_state
    assert torch.isfinite(out).all()
    bert_out = _bert()(ids, attention_mask=torch.zeros(1, 5, dtype=torch.long)).last_hidden_state
    assert torch.isfinite(bert_out).all()


@pytest.mark.parametrize(
    "model",
    [
        lambda: BertForPreTraining(BertConfig.preset("tiny")),
        lambda: GPTLMHeadModel(GPTConfig.preset("tiny")),
    ],
    ids=["bert-pretraining", "gpt-lm"],
)
def test_gradients_reach_every_parameter(model):
    model = model()
    ids = torch.randint(1, 1000, (2, 8))
    kwargs = {"labels": ids}
    if isinstance(model, BertForPreTraining):
        kwargs["next_sentence_label"] = torch.tensor([0, 1])
        kwargs["token_type_ids"] = torch.tensor([[0] * 4 + [1] * 4] * 2)
    model(ids, **kwargs).loss.backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_heads_produce_the_documented_shapes_and_losses():
    config = BertConfig.preset("tiny", num_labels=3)
    ids = torch.randint(1, 1000, (2, 6))
    mlm = BertForMaskedLM(config)(ids, labels=ids)
    assert mlm.logits.shape == (2, 6, 1000) and mlm.loss.ndim == 0
    classifier = BertForSequenceClassification(config)(ids, labels=torch.tensor([0, 2]))
    assert classifier.logits.shape == (2, 3) and classifier.loss > 0
    regressor = BertForSequenceClassification(config.replace(num_labels=1))(ids, labels=torch.tensor([0.5, 1.0]))
    assert regressor.logits.shape == (2, 1) and regressor.loss >= 0
    lm = GPTLMHeadModel(GPTConfig.preset("tiny"))(ids, labels=ids)
    assert lm.logits.shape == (2, 6, 1000)
    # At initialisation the LM is close to uniform: loss near log(vocab).
    assert abs(lm.loss.item() - torch.log(torch.tensor(1000.0)).item()) < 0.5


def test_tied_weights_are_one_tensor():
    gpt = GPTLMHeadModel(GPTConfig.preset("tiny"))
    assert gpt.lm_head.weight is gpt.gpt.token_embeddings.weight
    bert = BertForMaskedLM(BertConfig.preset("tiny"))
    assert bert.mlm_head.decoder.weight is bert.bert.embeddings.token_embeddings.weight
    # Counted once in the summary and parameter count.
    assert gpt.num_parameters() == gpt.gpt.num_parameters()
    assert "parameters" in gpt.summary()


def test_outputs_on_request():
    out = _bert()(torch.randint(0, 1000, (2, 5)), output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == 3 and len(out.attentions) == 2
    assert out.attentions[0].shape == (2, 2, 5, 5)
    assert out.pooler_output.shape == (2, 64)


@pytest.mark.parametrize("make", [_bert, _gpt], ids=["bert", "gpt"])
def test_bad_inputs_raise_clear_errors(make):
    model = make()
    with pytest.raises(ValueError, match="exceeds max_positions=128"):
        model(torch.zeros(1, 129, dtype=torch.long))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(torch.tensor([[1, 2, 1000]]))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(torch.tensor([[1, -1]]))
    with pytest.raises(ValueError, match="unsqueeze"):
        model(torch.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="integer ids"):
        model(torch.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="attention_mask has shape"):
        model(torch.tensor([[1, 2, 3]]), attention_mask=torch.ones(1, 4))
    with pytest.raises(ValueError, match="at least one token"):
        model(torch.zeros(1, 0, dtype=torch.long))


def test_bad_token_type_ids_raise():
    model = _bert()
    with pytest.raises(ValueError, match="segment ids"):
        model(torch.tensor([[1, 2]]), token_type_ids=torch.tensor([[0, 2]]))
    with pytest.raises(ValueError, match="token_type_ids has shape"):
        model(torch.tensor([[1, 2]]), token_type_ids=torch.tensor([[0, 0, 1]]))


def test_only_last_position_logits_equal_the_full_logits_last_row():
    model = GPTLMHeadModel(GPTConfig.preset("tiny")).eval()
    ids = torch.randint(0, 1000, (2, 7))
    full = model(ids).logits
    last = model(ids, only_last_position=True).logits
    assert last.shape == (2, 1, 1000)
    assert torch.allclose(last[:, 0], full[:, -1], atol=1e-6)
