"""Fine-tuning with k-fold cross-validation: folds are fair, the head learns, errors are explained."""

from __future__ import annotations

import pytest
import torch

from minitransformers import BertConfig, BertModel, GPTConfig, GPTModel
from minitransformers.analysis.finetune import SequenceClassifier, cross_validate, stratified_folds


class WordTokenizer:
    """Whitespace words -> ids from a fixed list; enough for a tiny model."""

    pad_token_id = 0

    def __init__(self, words):
        self.ids = {word: i + 1 for i, word in enumerate(words)}

    def encode(self, text, truncation=True, max_length=None):
        ids = [self.ids[word] for word in text.split()]
        return ids[:max_length] if truncation and max_length else ids


WORDS = ["dog", "kibble", "coffee", "roast", "good", "bad", "very", "the"]


def _data(n_per_label=9, seed=0):
    """Two labels told apart by one word each, in random filler."""
    generator = torch.Generator().manual_seed(seed)
    texts, labels = [], []
    for label, word in (("dog food", "kibble"), ("coffee", "roast")):
        for _ in range(n_per_label):
            filler = [WORDS[i] for i in torch.randint(4, 8, (3,), generator=generator).tolist()]
            texts.append(" ".join(filler[:2] + [word] + filler[2:]))
            labels.append(label)
    return texts, labels


def test_stratified_folds_partition_the_data_and_keep_proportions():
    labels = ["a"] * 10 + ["b"] * 5
    folds = stratified_folds(labels, 5, seed=1)
    assert sorted(i for fold in folds for i in fold) == list(range(15))
    assert all([labels[i] for i in fold].count("b") == 1 for fold in folds)
    assert folds == stratified_folds(labels, 5, seed=1) and folds != stratified_folds(labels, 5, seed=2)
    with pytest.raises(ValueError, match="only 5 examples, fewer than folds=6"):
        stratified_folds(labels, 6)


@pytest.mark.parametrize("model_class, config_class, pooling", [
    (BertModel, BertConfig, "cls"), (GPTModel, GPTConfig, "last"), (GPTModel, GPTConfig, "mean"),
])
def test_a_little_training_beats_chance_on_an_easy_task(model_class, config_class, pooling):
    torch.manual_seed(0)
    config = config_class.preset("tiny", vocab_size=len(WORDS) + 1, max_positions=16)
    pretrained = model_class(config)
    texts, labels = _data(12)
    result = cross_validate(lambda: pretrained, WordTokenizer(WORDS), texts, labels, pooling=pooling,
                            folds=3, epochs=10, batch_size=8, learning_rate=1e-3)
    assert len(result.fold_accuracies) == 3 and result.chance == 0.5
    assert result.mean >= 0.75, result.summary()
    assert all(prediction in ("dog food", "coffee") for prediction in result.predictions)
    assert result.losses[0][-1] < result.losses[0][0]  # it trained
    assert "over 3 folds" in result.summary()


def test_the_shared_model_is_not_changed_by_fine_tuning():
    # make_model may return one shared model: each fold trains a copy, so fold 2 starts fresh.
    torch.manual_seed(0)
    pretrained = GPTModel(GPTConfig.preset("tiny", vocab_size=len(WORDS) + 1, max_positions=16))
    before = {name: value.clone() for name, value in pretrained.state_dict().items()}
    texts, labels = _data(4)
    cross_validate(lambda: pretrained, WordTokenizer(WORDS), texts, labels, pooling="last", folds=2, epochs=1)
    assert all(torch.equal(before[name], value) for name, value in pretrained.state_dict().items())


def test_bad_choices_are_explained():
    gpt = GPTModel(GPTConfig.preset("tiny"))
    with pytest.raises(ValueError, match="pooling='cls' takes the first token"):
        SequenceClassifier(gpt, 2, "cls")
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        SequenceClassifier(gpt, 2, "max")
    with pytest.raises(ValueError, match="at least 2 labels"):
        SequenceClassifier(gpt, 1, "mean")
    with pytest.raises(ValueError, match="3 texts and 2 labels"):
        cross_validate(lambda: gpt, WordTokenizer(WORDS), ["dog"] * 3, ["a", "b"], pooling="mean")
