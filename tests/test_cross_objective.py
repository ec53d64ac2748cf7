"""A GPT with its causal flag switched off reads both sides; the shifted masked LM scores token i from
position i - 1; the continuation trains on seeded, framed batches and lowers the loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from minitransformers import BertConfig, BertForPreTraining, GPTConfig, GPTLMHeadModel, load_tokenizer, shipped_path
from minitransformers.analysis.cross_objective import (
    ShiftedMaskedLM,
    continue_masked_lm,
    make_bidirectional,
    masked_batches,
    token_stream,
)
from minitransformers.data import IGNORE_INDEX

TEXT = {"a play": "To be, or not to be: that is the question.\n" * 40}


def _tokenizer():
    return load_tokenizer(shipped_path("mini-bert-shakespeare"))


def _gpt(tokenizer, impl: str = "manual") -> GPTLMHeadModel:
    config = GPTConfig.preset("tiny", vocab_size=tokenizer.vocab_size, max_positions=34, attn_impl=impl,
                              hidden_dropout=0.0, attention_dropout=0.0)
    return GPTLMHeadModel(config).eval()


def test_switching_the_flag_off_lets_early_tokens_see_later_ones_and_leaves_the_original_causal():
    for impl in ("manual", "sdpa"):
        gpt = _gpt(_tokenizer(), impl)
        ids = torch.randint(0, 500, (2, 12))
        changed = ids.clone()
        changed[:, -1] = (changed[:, -1] + 1) % 500  # only the last token differs
        both_sides = make_bidirectional(gpt)
        with torch.no_grad():
            assert torch.allclose(gpt(ids).logits[:, :-1], gpt(changed).logits[:, :-1], atol=1e-6)
            assert not torch.allclose(both_sides(ids).logits[:, 0], both_sides(changed).logits[:, 0], atol=1e-4)
        assert all(block.attention.causal for block in gpt.gpt.blocks)  # the given model is not changed


def test_the_shifted_masked_lm_guesses_token_i_from_position_i_minus_one():
    tokenizer = _tokenizer()
    model = ShiftedMaskedLM(make_bidirectional(_gpt(tokenizer)))
    ids = torch.randint(0, 500, (3, 10))
    with torch.no_grad():
        plain = model.gpt(ids).logits
        shifted = model(ids).logits
        assert torch.equal(shifted[:, 1:], plain[:, :-1])
        labels = torch.full_like(ids, IGNORE_INDEX)
        labels[:, [2, 5, 9]] = ids[:, [2, 5, 9]]
        dense = F.cross_entropy(shifted.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)
        assert torch.allclose(model.masked_loss(ids, labels), dense, atol=1e-5)


def test_masked_batches_are_seeded_framed_and_never_hide_the_frame():
    tokenizer = _tokenizer()
    stream = token_stream(tokenizer, TEXT, 16)
    first = list(masked_batches(tokenizer, stream, 16, steps=3, batch_size=4, mask_probability=0.4, seed=7))
    again = list(masked_batches(tokenizer, stream, 16, steps=3, batch_size=4, mask_probability=0.4, seed=7))
    for (ids, labels), (ids2, labels2) in zip(first, again):
        assert torch.equal(ids, ids2) and torch.equal(labels, labels2)
        assert ids.shape == labels.shape == (4, 18)
        assert (ids[:, 0] == tokenizer.cls_token_id).all() and (ids[:, -1] == tokenizer.sep_token_id).all()
        assert (labels[:, [0, -1]] == IGNORE_INDEX).all()
        assert (labels != IGNORE_INDEX).any()
        assert not (labels == tokenizer.eos_token_id).any()  # the separator between works is never hidden


def test_continuing_lowers_the_masked_loss_of_both_kinds_on_the_same_batches():
    tokenizer = _tokenizer()
    stream = token_stream(tokenizer, TEXT, 16)
    torch.manual_seed(0)
    bert = BertForPreTraining(BertConfig.preset("tiny", vocab_size=tokenizer.vocab_size, max_positions=34,
                                                pad_token_id=tokenizer.pad_token_id))
    gpt = ShiftedMaskedLM(make_bidirectional(_gpt(tokenizer)))
    for model in (bert, gpt):
        losses = continue_masked_lm(model, tokenizer, stream, steps=40, batch_size=8, learning_rate=3e-3, length=16)
        assert len(losses) == 40
        assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5, losses
        assert not model.training  # left in eval mode, ready to be scored


def test_the_fill_in_scores_of_the_four_models_are_on_the_same_hidden_tokens():
    from minitransformers.analysis.cross_objective import cross_objective_fill_in
    from minitransformers.recipes.evaluation import both_sides_metrics

    tokenizer = _tokenizer()
    # The shipped pair, so that the scores are not all zero and a changed mask would show.
    bert = BertForPreTraining.from_pretrained(shipped_path("mini-bert-shakespeare"))
    gpt = GPTLMHeadModel.from_pretrained(shipped_path("mini-gpt-shakespeare"))
    before = {name: value.clone() for name, value in gpt.state_dict().items()}
    test = {"held out": "Good night, sweet prince,\nAnd flights of angels sing thee to thy rest!\n" * 30}
    scores = cross_objective_fill_in(bert, gpt, tokenizer, TEXT, test, steps=1, batch_size=2)["held out"]
    plain = both_sides_metrics(bert, gpt, tokenizer, test)
    assert (scores["bert"], scores["gpt_left"]) == (plain["bert_both_sides"], plain["gpt_left_only"])
    unmasked = both_sides_metrics(ShiftedMaskedLM(make_bidirectional(gpt)), gpt, tokenizer, test)
    assert scores["gpt_unmasked"] == unmasked["bert_both_sides"]  # scored without GPT's side, same masks
    assert min(scores["bert"], scores["gpt_left"], scores["gpt_unmasked"]) > 0
    assert all(torch.equal(before[name], value) for name, value in gpt.state_dict().items())
