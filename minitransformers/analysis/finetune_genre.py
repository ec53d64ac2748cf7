"""Fine-tuning on a fixed small budget, split by play: the whole model learns the label, not only a probe.

:func:`minitransformers.analysis.finetune.cross_validate` deals single texts
into folds; passages of one play would then sit on both sides. Here the
splits come from :func:`minitransformers.analysis.probes.play_folds`, and the
budget is a number of optimiser steps rather than epochs, so BERT and GPT
get exactly the same number of updates on the same batches whatever the
fold's size. Everything else is ``cross_validate``'s: a
:class:`~minitransformers.analysis.finetune.SequenceClassifier` (body,
pooling, linear head), AdamW with 10x the learning rate for the new head.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from ..inference.embeddings import _pad_right
from .finetune import SequenceClassifier
from .probes import Split


def _encode(tokenizer, texts: Sequence[str], indices: Sequence[int], max_length: int) -> tuple:
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    encoded = [tokenizer.encode(texts[i], truncation=True, max_length=max_length) for i in indices]
    return _pad_right(encoded, pad_id, "cpu")


def finetune_scores(model: nn.Module, tokenizer, texts: Sequence[str], labels: Sequence[str],
                    splits: Sequence[Split], *, pooling: str = "mean", steps: int = 100, batch_size: int = 16,
                    learning_rate: float = 2e-4, max_length: int = 64, seed: int = 0) -> list[float]:
    """Test accuracy per split of a fresh copy of ``model`` fine-tuned for ``steps`` steps on its training side.

    The batches are drawn in a seeded order that depends only on the split and ``seed``, so two
    models given the same split train on the same passages in the same order.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    names = sorted(set(labels))
    targets = torch.tensor([names.index(label) for label in labels])
    accuracies = []
    for fold, (train, test) in enumerate(splits):
        torch.manual_seed(seed + fold)  # the head's initial weights and dropout
        classifier = SequenceClassifier(copy.deepcopy(model), len(names), pooling)
        optimizer = torch.optim.AdamW([
            {"params": classifier.body.parameters(), "lr": learning_rate},
            {"params": classifier.head.parameters(), "lr": learning_rate * 10},
        ], weight_decay=0.01)
        order = torch.Generator().manual_seed(seed + fold)
        queue: list[int] = []
        classifier.train()
        for _ in range(steps):
            if len(queue) < batch_size:  # a new pass over the training side, in a fresh order
                queue += [train[i] for i in torch.randperm(len(train), generator=order).tolist()]
            chosen, queue = queue[:batch_size], queue[batch_size:]
            input_ids, mask = _encode(tokenizer, texts, chosen, max_length)
            loss = nn.functional.cross_entropy(classifier(input_ids, mask), targets[chosen])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        classifier.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, len(test), 64):
                chosen = test[start:start + 64]
                guesses = classifier(*_encode(tokenizer, texts, chosen, max_length)).argmax(dim=-1)
                correct += int((guesses == targets[chosen]).sum())
        accuracies.append(correct / len(test))
    return accuracies
