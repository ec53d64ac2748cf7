"""Held-out numbers for the model cards: perplexity for mini-GPT, masked-token accuracy for mini-BERT."""

from __future__ import annotations

import math

import torch

from ..data import IGNORE_INDEX


def _batches(dataset, batch_size: int, device):
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        yield {key: torch.stack([item[key] for item in items]).to(device) for key in items[0]}


@torch.no_grad()
def causal_lm_metrics(model, dataset, batch_size: int = 64) -> dict[str, float]:
    """Mean next-token loss over every block of ``dataset`` and its perplexity ``exp(loss)``."""
    model.eval()
    total_loss, total_tokens = 0.0, 0
    for batch in _batches(dataset, batch_size, model.device):
        out = model(batch["input_ids"], labels=batch["labels"])
        n = batch["labels"][:, 1:].numel()
        total_loss += out.loss.item() * n
        total_tokens += n
    loss = total_loss / total_tokens
    return {"loss": loss, "perplexity": math.exp(loss), "tokens": total_tokens}


@torch.no_grad()
def masked_lm_metrics(model, dataset, batch_size: int = 64) -> dict[str, float]:
    """Accuracy and loss on the masked positions, and next-sentence accuracy, over ``dataset``.

    ``dataset`` fixes its masks by seed, so the numbers are reproducible.
    """
    model.eval()
    correct = masked = nsp_correct = examples = 0
    total_loss = 0.0
    for batch in _batches(dataset, batch_size, model.device):
        out = model(**batch)
        labels = batch["labels"]
        chosen = labels != IGNORE_INDEX
        predictions = out.logits.argmax(dim=-1)
        correct += int((predictions[chosen] == labels[chosen]).sum())
        n = int(chosen.sum())
        masked += n
        total_loss += torch.nn.functional.cross_entropy(out.logits[chosen], labels[chosen], reduction="sum").item()
        if out.nsp_logits is not None and "next_sentence_label" in batch:
            nsp_correct += int((out.nsp_logits.argmax(-1) == batch["next_sentence_label"].flatten()).sum())
            examples += len(labels)
    metrics = {"masked_accuracy": correct / masked, "masked_loss": total_loss / masked, "masked_tokens": masked}
    if examples:
        metrics["nsp_accuracy"] = nsp_correct / examples
    return metrics
