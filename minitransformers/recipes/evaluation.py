"""Held-out numbers for the model cards: perplexity for the GPTs, masked-token and next-sentence
accuracy for mini-BERT, and the famous-lines counts; :func:`evaluate_checkpoint` gives them all
for a checkpoint folder (``scripts/evaluate_shipped.py`` prints them)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from ..data import IGNORE_INDEX


def _batches(dataset, batch_size: int, device):
    for start in range(0, len(dataset), batch_size):
        batch = dataset.batch(torch.arange(start, min(start + batch_size, len(dataset))))
        yield {key: value.to(device) for key, value in batch.items()}


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


@torch.no_grad()
def both_sides_metrics(bert, gpt, tokenizer, works: dict[str, str], mask_probability: float = 0.15,
                       seed: int = 1, batch_size: int = 16, right_side_removed: bool = False) -> dict[str, float]:
    """Top-1 accuracy on the same hidden tokens: BERT reading both sides, GPT reading only the left.

    Each work is cut into windows of ``t`` tokens (BERT's context less its
    ``<cls>`` and ``<sep>``). In each window 15% of the tokens are hidden,
    every one replaced by ``<mask>``. BERT reads ``<cls> window <sep>`` and
    guesses each hidden token; GPT reads the window's true text and guesses
    each hidden token from the tokens before it (its next-token guess). The
    first token of a window has no left side and is not scored. ``unigram``
    is the best context-free guess: always the token most frequent among the
    scored ones (an upper bound for any guess that ignores the text).

    ``bert_left_only`` (with ``right_side_removed=True``) is BERT at the same
    hidden tokens with the right side cut off: for each hidden token it reads
    ``<cls> window up to the token <sep>`` (the earlier hidden tokens still
    masked), so it sees what GPT sees, less the hidden tokens before it.
    """
    from ..data import mask_tokens

    bert.eval()
    gpt.eval()
    length = min(bert.config.max_positions - 2, gpt.config.max_positions)
    windows = []
    for text in works.values():
        ids = tokenizer.encode_ordinary(text)
        windows += [ids[start:start + length] for start in range(0, len(ids) - length + 1, length)]
    generator = torch.Generator().manual_seed(seed)
    bert_correct = gpt_correct = left_correct = 0
    scored_tokens = []
    for start in range(0, len(windows), batch_size):
        window = torch.tensor(windows[start:start + batch_size])  # (b t)
        hidden, labels = mask_tokens(window, mask_token_id=tokenizer.mask_token_id, vocab_size=tokenizer.vocab_size,
                                     mask_probability=mask_probability, generator=generator,
                                     replace_shares=(1.0, 0.0, 0.0))
        labels[:, 0] = IGNORE_INDEX  # nothing to the left of a window's first token
        cls, sep = (torch.full((len(window), 1), token) for token in (tokenizer.cls_token_id, tokenizer.sep_token_id))
        bert_input = torch.cat([cls, hidden, sep], dim=1).to(bert.device)  # <cls> window <sep>
        bert_guess = bert(bert_input).logits[:, 1:-1].argmax(-1).cpu()  # (b t)
        gpt_guess = gpt(window.to(gpt.device)).logits.argmax(-1).cpu()  # (b t): guess for the token after each
        chosen = labels != IGNORE_INDEX
        bert_correct += int((bert_guess[chosen] == labels[chosen]).sum())
        gpt_correct += int((gpt_guess[:, :-1][chosen[:, 1:]] == labels[:, 1:][chosen[:, 1:]]).sum())
        scored_tokens += labels[chosen].tolist()
        if right_side_removed:
            left_correct += _left_only_correct(bert, tokenizer, hidden, labels, chosen)
    n = len(scored_tokens)
    most_frequent = max(set(scored_tokens), key=scored_tokens.count)
    numbers = {"bert_both_sides": bert_correct / n, "gpt_left_only": gpt_correct / n,
               "unigram": scored_tokens.count(most_frequent) / n, "unigram_token": tokenizer.decode([most_frequent]),
               "tokens": n}
    if right_side_removed:
        numbers["bert_left_only"] = left_correct / n
    return numbers


def _left_only_correct(bert, tokenizer, hidden: torch.Tensor, labels: torch.Tensor, chosen: torch.Tensor,
                       batch_size: int = 64) -> int:
    """How many hidden tokens BERT gets right reading ``<cls> left side, hidden token <sep>`` only."""
    rows, positions = chosen.nonzero(as_tuple=True)
    # One input per hidden token; sorted by length so that each batch pads little.
    order = positions.argsort()
    correct = 0
    for start in range(0, len(order), batch_size):
        picked = order[start:start + batch_size]
        longest = int(positions[picked].max()) + 1
        ids = torch.full((len(picked), longest + 2), tokenizer.pad_token_id)
        attention = torch.zeros_like(ids)
        for row, (window, position) in enumerate(zip(rows[picked].tolist(), positions[picked].tolist())):
            prefix = [tokenizer.cls_token_id, *hidden[window, :position + 1].tolist(), tokenizer.sep_token_id]
            ids[row, :len(prefix)] = torch.tensor(prefix)
            attention[row, :len(prefix)] = 1
        logits = bert(ids.to(bert.device), attention_mask=attention.to(bert.device)).logits  # (b t v)
        at_gap = logits[torch.arange(len(picked)), positions[picked] + 1].argmax(-1).cpu()  # after <cls>
        correct += int((at_gap == labels[rows[picked], positions[picked]]).sum())
    return correct


def checkpoint_kind(directory: str | Path) -> str:
    """``"gpt"``, ``"bert"`` or ``"gpt-char"`` for a checkpoint folder."""
    directory = Path(directory)
    try:
        config = json.loads((directory / "config.json").read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{directory / 'config.json'} is not valid JSON ({error})") from None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type == "bert":
        return "bert"
    if model_type == "gpt2":
        return "gpt-char" if (directory / "char_vocab.json").exists() else "gpt"
    found = f"a {model_type!r} checkpoint" if model_type else "a config.json without a model_type"
    raise ValueError(f"{directory} holds {found}; expected a BERT or GPT-2 checkpoint")


@torch.no_grad()
def evaluate_checkpoint(directory: str | Path, device: str | torch.device = "cpu") -> dict:
    """Every held-out number of a checkpoint folder, computed the way the model cards quote them.

    GPTs: the loss on the validation plays cut into blocks of the full context
    (``max_positions``). mini-BERT: masked-token accuracy with every selected
    token replaced by ``<mask>``, and next-sentence accuracy. BPE models also get
    the famous-lines count (see :mod:`.famous_lines`).
    """
    from ..models import BertForPreTraining, GPTLMHeadModel
    from ..tokenizers import load_tokenizer
    from .famous_lines import famous_lines_table, found_counts
    from .shakespeare_data import causal_lm_dataset, char_lm_dataset, masked_lm_dataset, shakespeare_texts

    directory, kind = Path(directory), checkpoint_kind(directory)
    tokenizer = load_tokenizer(directory)
    _, validation = shakespeare_texts()
    if kind == "bert":
        model = BertForPreTraining.from_pretrained(directory).to(device)
        dataset = masked_lm_dataset(tokenizer, validation, model.config.max_positions, seed=1, evaluation=True)
        metrics = masked_lm_metrics(model, dataset)
        metrics["famous_lines"] = found_counts(famous_lines_table(bert=model, tokenizer=tokenizer))
    else:
        model = GPTLMHeadModel.from_pretrained(directory).to(device)
        block = model.config.max_positions
        build = char_lm_dataset if kind == "gpt-char" else causal_lm_dataset
        metrics = {**causal_lm_metrics(model, build(tokenizer, validation, block)), "context": block}
        if kind == "gpt":
            metrics["famous_lines"] = found_counts(famous_lines_table(gpt=model, tokenizer=tokenizer))
    return {"kind": kind, **metrics}


def evaluate_checkpoint_model(directory: str | Path, device: str | torch.device = "cpu") -> dict:
    """:func:`evaluate_checkpoint` without the ``kind`` entry (what ``training.json`` stores)."""
    metrics = evaluate_checkpoint(directory, device)
    metrics.pop("kind")
    return metrics


# What the shipped checkpoints aim for on the held-out plays (the laptop pair's issue, 34).
TARGETS = {
    "gpt": [("loss", "<=", 4.6), ("famous_lines.gpt", ">=", 5 / 20)],
    "bert": [("masked_accuracy", ">=", 0.30), ("nsp_accuracy", ">=", 0.75), ("famous_lines.bert", ">=", 7 / 20)],
    "gpt-char": [("loss", "<=", 1.40)],
}
# At the same hidden tokens, BERT reading both sides should beat GPT reading the left by this much.
BOTH_SIDES_MARGIN = 0.05


def _value(metrics: dict, name: str) -> float:
    if name.startswith("famous_lines."):
        found, total = metrics["famous_lines"][name.split(".")[1]].split("/")
        return int(found) / int(total)
    return metrics[name]


def target_report(kind: str, metrics: dict) -> list[tuple[str, float, bool]]:
    """``(description, value, met)`` for each target of ``kind``, e.g. ``("loss <= 4.2", 4.35, False)``."""
    rows = []
    for name, sense, bound in TARGETS.get(kind, []):
        value = _value(metrics, name)
        met = value <= bound if sense == "<=" else value >= bound
        label = {"famous_lines.gpt": "share of famous lines in GPT's top 5",
                 "famous_lines.bert": "share of famous lines in BERT's top 5"}.get(name, name.replace("_", " "))
        rows.append((f"{label} {sense} {bound:.3g}", value, met))
    return rows
