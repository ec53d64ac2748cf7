"""The pieces the pair tasks are built from: every pooling from one pass, next-word guesses, fine-tuning by play."""

from __future__ import annotations

import pytest
import torch

from minitransformers import (
    BertConfig,
    BertForPreTraining,
    GPTConfig,
    GPTLMHeadModel,
    load_tokenizer,
    sentence_embeddings,
    shipped_path,
)
from minitransformers.analysis.finetune_genre import finetune_scores
from minitransformers.analysis.pooling import pooled_embeddings, poolings_for
from minitransformers.analysis.probes import play_folds
from minitransformers.analysis.word_tasks import next_word_scores

TEXTS = ["Good night, sweet prince.", "O Romeo, Romeo! wherefore art thou Romeo?", "Ay.",
         "Now is the winter of our discontent made glorious summer by this sun of York."]


def _tokenizers():
    return load_tokenizer(shipped_path("mini-bert-shakespeare")), load_tokenizer(shipped_path("mini-gpt-shakespeare"))


def _pair(vocab_size: int, pad_token_id: int, positions: int = 40):
    torch.manual_seed(0)
    bert = BertForPreTraining(BertConfig.preset("tiny", vocab_size=vocab_size, max_positions=positions,
                                                pad_token_id=pad_token_id)).eval()
    gpt = GPTLMHeadModel(GPTConfig.preset("tiny", vocab_size=vocab_size, max_positions=positions)).eval()
    return bert, gpt


def test_every_pooling_from_one_pass_matches_sentence_embeddings_in_the_given_order():
    bert_tokenizer, gpt_tokenizer = _tokenizers()
    bert, gpt = _pair(bert_tokenizer.vocab_size, bert_tokenizer.pad_token_id)
    assert poolings_for(bert) == ("mean", "cls", "last") and poolings_for(gpt) == ("mean", "last")
    for model, tokenizer in ((bert, bert_tokenizer), (gpt, gpt_tokenizer)):
        found = pooled_embeddings(model, tokenizer, TEXTS, batch_size=3)  # sorted by length inside
        for pooling, vectors in found.items():
            expected = sentence_embeddings(model, tokenizer, TEXTS, pooling=pooling, normalize=False, batch_size=1)
            assert torch.allclose(torch.from_numpy(vectors), expected, atol=1e-5), pooling
    with pytest.raises(ValueError, match="do not suit a GPTLMHeadModel"):
        pooled_embeddings(gpt, gpt_tokenizer, TEXTS, poolings=["cls"])


def test_next_word_guesses_are_each_model_s_guess_from_the_same_left_context():
    bert_tokenizer, _ = _tokenizers()
    bert, gpt = _pair(bert_tokenizer.vocab_size, bert_tokenizer.pad_token_id)
    text = " ".join(TEXTS * 6)
    scores = next_word_scores(bert, gpt, bert_tokenizer, text, targets=12, context=10, seed=1, batch_size=5)
    # Recompute one target at a time: GPT's last-position guess, BERT's guess at a <mask> after the context.
    ids = bert_tokenizer.encode_ordinary(text)
    positions = (torch.randperm(len(ids) - 10, generator=torch.Generator().manual_seed(1))[:12] + 10).tolist()
    gpt_hits = bert_hits = 0
    with torch.no_grad():
        for p in positions:
            left = ids[p - 10:p]
            gpt_hits += int(gpt(torch.tensor([left])).logits[0, -1].argmax() == ids[p])
            framed = [bert_tokenizer.cls_token_id, *left, bert_tokenizer.mask_token_id, bert_tokenizer.sep_token_id]
            bert_hits += int(bert(torch.tensor([framed])).logits[0, -2].argmax() == ids[p])
    assert scores["gpt"] == gpt_hits / 12 and scores["bert"] == bert_hits / 12 and scores["tokens"] == 12
    with pytest.raises(ValueError, match="context must be between 1 and 37"):
        next_word_scores(bert, gpt, bert_tokenizer, text, context=38)


def test_fine_tuning_by_play_learns_an_easy_label_and_leaves_the_model_untouched():
    _, tokenizer = _tokenizers()
    _, gpt = _pair(tokenizer.vocab_size, tokenizer.pad_token_id)
    texts, labels, plays = [], [], []
    for play in range(6):  # the label is in the words: comedies are merry, tragedies bloody
        word, label = ("merry merry jest", "comedy") if play % 2 else ("blood blood murder", "tragedy")
        for line in range(5):
            texts.append(f"{word} line {line} of play {play}")
            labels.append(label)
            plays.append(f"play{play}")
    before = {name: value.clone() for name, value in gpt.state_dict().items()}
    splits = play_folds(plays, labels, 3)
    scores = finetune_scores(gpt, tokenizer, texts, labels, splits, steps=30, batch_size=8, learning_rate=1e-3)
    assert scores == [1.0, 1.0, 1.0]
    assert all(torch.equal(before[name], value) for name, value in gpt.state_dict().items())
    assert finetune_scores(gpt, tokenizer, texts, labels, splits[:1], steps=3) == \
        finetune_scores(gpt, tokenizer, texts, labels, splits[:1], steps=3)  # seeded


def test_a_pair_of_two_contexts_is_refused_by_name(tmp_path):
    from minitransformers.analysis.pair_tasks import Pair

    bert_tokenizer, gpt_tokenizer = _tokenizers()
    bert, _ = _pair(bert_tokenizer.vocab_size, bert_tokenizer.pad_token_id, positions=40)
    _, gpt = _pair(bert_tokenizer.vocab_size, bert_tokenizer.pad_token_id, positions=32)
    for model, tokenizer, name in ((bert, bert_tokenizer, "bert"), (gpt, gpt_tokenizer, "gpt")):
        model.save_pretrained(tmp_path / name)
        tokenizer.save(tmp_path / name)
    with pytest.raises(ValueError, match="BERT reads 40 positions and GPT 32"):
        Pair.load(tmp_path / "bert", tmp_path / "gpt", works={})
