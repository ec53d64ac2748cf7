"""The pieces of ``bert_plateau_study.py``: a recipe with every knob the study turns, the data, one run.

A :class:`Recipe` is the shipped mini-BERT recipe at the study's small size;
each entry of :data:`VARIATIONS` changes some of its fields.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable

import torch
import torch.nn.functional as F

from minitransformers import BertConfig, BertForPreTraining
from minitransformers.data import IGNORE_INDEX, MaskedLMDataset
from minitransformers.recipes.shakespeare_data import (
    bpe_word_continuation, paragraphs, shakespeare_texts, train_shakespeare_tokenizer,
)
from minitransformers.training import TrainConfig, Trainer, make_scheduler, seed_everything
from minitransformers.training.masked_positions import MaskedPositionsLoss

EVAL_EXAMPLES = 256  # held-out examples scored at every evaluation (about 4,500 masked tokens at context 128)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """The shipped mini-BERT recipe at the study's size (4 x 256, context 128, batch 32): the ``shipped`` run,
    which every variation changes in one place (``known_good`` in three)."""

    n_layers: int = 4
    hidden_size: int = 256
    n_heads: int = 4
    block_size: int = 128
    batch_size: int = 32
    dropout: float = 0.2
    autocast: str | None = "bfloat16"  # as the shipped recipe ran on the GPU (and fast on this CPU too)
    compile: bool = True
    attn_impl: str = "sdpa"
    pair_rule: str = "new"  # "new": paragraphs packed per play, a blank line between; "old": one paragraph each
    learning_rate: float = 6e-4
    # The shipped schedule: 300 warm-up steps, then a cosine to lr / 10 at step 6,000. A study run
    # follows it for its first few hundred steps, so the rate is what the shipped run had there.
    warmup_steps: int = 300
    schedule_steps: int = 6000
    mask_rate: float = 0.15
    whole_words: bool = False
    dynamic_masks: bool = True  # fresh masks every time an example comes back
    nsp: bool = True
    decay_everything: bool = False  # weight decay on LayerNorm, biases and embeddings too
    newlines: str = "as_is"  # "spaced": a space after each newline, so a line's first word is its usual token

    def changed(self, **changes) -> Recipe:
        return dataclasses.replace(self, **changes)


# name -> (what it changes, the changes to the base recipe)
VARIATIONS: dict[str, tuple[str, dict]] = {
    "shipped": ("as shipped: bf16 autocast, compile, sdpa; dropout 0.2, new pairs, lr 6e-4, 300 warm-up", {}),
    "fp32_eager": ("float32, no compile, hand-written attention", dict(autocast=None, compile=False,
                                                                        attn_impl="manual")),
    "known_good": ("the first shipped recipe (bbdfb4b): dropout 0.1, old pairs, 200 of 3,000 steps warm-up",
                   dict(dropout=0.1, pair_rule="old", warmup_steps=200, schedule_steps=3000)),
    "lr_1e-4": ("learning rate 1e-4", dict(learning_rate=1e-4)),
    "lr_3e-4": ("learning rate 3e-4", dict(learning_rate=3e-4)),
    "warmup_25": ("warm-up over 1,500 steps (25% of the schedule)", dict(warmup_steps=1500)),
    "dropout_0.1": ("dropout 0.1", dict(dropout=0.1)),
    "no_nsp": ("no next-sentence loss (one packed segment per example)", dict(nsp=False)),
    "mask_40": ("40% of the tokens masked", dict(mask_rate=0.40)),
    "old_pairs": ("the old pair rule: one paragraph each", dict(pair_rule="old")),
    "whole_words": ("whole-word masking", dict(whole_words=True)),
    "dropout_0": ("no dropout", dict(dropout=0.0)),
    "decay_all": ("weight decay on LayerNorm, biases and embeddings too", dict(decay_everything=True)),
    "fixed_masks": ("one fixed mask per example for the whole run", dict(dynamic_masks=False)),
    "newline_spaced": ("a space after every newline (one token per word, line start or not)",
                       dict(newlines="spaced")),
    "lr_1e-3": ("learning rate 1e-3", dict(learning_rate=1e-3)),
    "full_size": ("6 x 288, context 256 (the shipped size)",
                  dict(n_layers=6, hidden_size=288, n_heads=6, block_size=256)),
    # The two changes that help most, together: the recipe the study picks.
    "fixed": ("no dropout and 40% of the tokens masked", dict(dropout=0.0, mask_rate=0.40)),
    "fixed_full_size": ("the fixed recipe at 6 x 288, context 256",
                        dict(dropout=0.0, mask_rate=0.40, n_layers=6, hidden_size=288, n_heads=6, block_size=256)),
}


class FixedMaskDataset(MaskedLMDataset):
    """Each example keeps the pairing and mask of its first draw for the whole run (static masking)."""

    def set_epoch(self, epoch: int) -> None:
        pass  # the epoch never reaches the draws

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        rows = [super(FixedMaskDataset, self).batch(torch.tensor([int(i)])) for i in torch.as_tensor(indices)]
        return {key: torch.cat([row[key] for row in rows]) for key in rows[0]}


class StudyData:
    """The plays, the shared tokenizer and the tokenized paragraphs, made once for every run."""

    def __init__(self) -> None:
        self.train_works, self.validation_works = shakespeare_texts()
        self.tokenizer = train_shakespeare_tokenizer(self.train_works)
        self._segments: dict[tuple[str, str], tuple[list, list]] = {}
        self.newline_id = self.tokenizer.encode_ordinary("\n")[0]

    def segments(self, split: str, newlines: str) -> tuple[list[list[int]], list[int]]:
        """Token ids of every paragraph of ``split`` ("train" or "validation"), and its play's number."""
        if (split, newlines) not in self._segments:
            works = self.train_works if split == "train" else self.validation_works
            segments, documents = [], []
            for number, text in enumerate(works.values()):
                for paragraph in paragraphs(text):
                    if newlines == "spaced":
                        paragraph = " " + paragraph.replace("\n", "\n ")
                    segments.append(self.tokenizer.encode_ordinary(paragraph))
                    documents.append(number)
            self._segments[split, newlines] = (segments, documents)
        return self._segments[split, newlines]

    def dataset(self, recipe: Recipe, split: str) -> MaskedLMDataset:
        """Training examples as the recipe builds them; held-out ones always as the model cards score them:
        the new pair rule, 15% selected, every selected token ``<mask>``."""
        segments, documents = self.segments(split, recipe.newlines)
        training = split == "train"
        old = training and recipe.pair_rule == "old"
        tokenizer = self.tokenizer
        kind = FixedMaskDataset if training and not recipe.dynamic_masks else MaskedLMDataset
        return kind(
            segments, block_size=recipe.block_size, cls_token_id=tokenizer.cls_token_id,
            sep_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id,
            mask_token_id=tokenizer.mask_token_id, vocab_size=tokenizer.vocab_size,
            next_sentence=recipe.nsp or not training, seed=0 if training else 1,
            documents=None if old else documents, fill=not old,
            # The lone "\n\n" token, as the study measured; the shipped pair since joins paragraphs with
            # shakespeare_data.paragraph_break_ids, the two newlines of running text.
            joiner=() if old else tokenizer.encode_ordinary("\n\n"),
            mask_probability=recipe.mask_rate if training else 0.15,
            replace_shares=(0.8, 0.1, 0.1) if training else (1.0, 0.0, 0.0),
            continues_word=bpe_word_continuation(tokenizer) if training and recipe.whole_words else None,
        )

    def eval_batch(self, recipe: Recipe) -> dict[str, torch.Tensor]:
        dataset = self.dataset(recipe, "validation")
        return dataset.batch(torch.arange(min(EVAL_EXAMPLES, len(dataset))))


def build_model(recipe: Recipe, data: StudyData) -> BertForPreTraining:
    width = recipe.hidden_size
    config = BertConfig(vocab_size=data.tokenizer.vocab_size, pad_token_id=data.tokenizer.pad_token_id,
                        hidden_size=width, n_layers=recipe.n_layers, n_heads=recipe.n_heads,
                        intermediate_size=4 * width, max_positions=recipe.block_size,
                        hidden_dropout=recipe.dropout, attention_dropout=recipe.dropout, attn_impl=recipe.attn_impl)
    seed_everything(0)  # the same initial weights for every run of one size
    return BertForPreTraining(config)


@torch.no_grad()
def score(model: BertForPreTraining, batch: dict[str, torch.Tensor], newline_id: int) -> dict[str, float]:
    """Masked-token accuracy and loss (every selected token ``<mask>``), and how often the top guess is a
    newline. On the plateau the loss moves before the accuracy does (compare ``unigram_baselines``' loss)."""
    model.eval()
    correct = guessed_newline = total = 0
    loss = 0.0
    for start in range(0, len(batch["input_ids"]), 64):
        part = {key: value[start:start + 64] for key, value in batch.items()}
        logits = model(**{k: v for k, v in part.items() if k != "next_sentence_label"}).logits
        chosen = part["labels"] != IGNORE_INDEX
        guesses = logits[chosen].argmax(-1)
        correct += int((guesses == part["labels"][chosen]).sum())
        guessed_newline += int((guesses == newline_id).sum())
        loss += F.cross_entropy(logits[chosen], part["labels"][chosen], reduction="sum").item()
        total += int(chosen.sum())
    model.train()
    return {"accuracy": correct / total, "loss": loss / total, "newline_guess_share": guessed_newline / total,
            "masked_tokens": total}


def train_and_score(recipe: Recipe, data: StudyData, steps: int, eval_every: int,
                    log: Callable[[str], None] = print) -> list[dict]:
    """The first ``steps`` optimizer steps of the recipe's schedule, with the library's Trainer, scored every
    ``eval_every`` steps."""
    model = build_model(recipe, data)
    config = TrainConfig(
        max_steps=max(steps, recipe.schedule_steps), batch_size=recipe.batch_size,
        learning_rate=recipe.learning_rate, min_learning_rate=recipe.learning_rate / 10,
        warmup_steps=recipe.warmup_steps,
        weight_decay=0.1, beta2=0.95, eval_every=0, log_every=eval_every, device="cpu", seed=0,
        autocast_dtype=recipe.autocast, compile=recipe.compile, progress=False,
    )
    trainer = Trainer(MaskedPositionsLoss(model), data.dataset(recipe, "train"), config)
    if recipe.decay_everything:
        trainer.optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, betas=(0.9, 0.95),
                                              weight_decay=config.weight_decay, fused=True)
        trainer.scheduler = make_scheduler(trainer.optimizer, warmup_steps=config.warmup_steps,
                                           max_steps=config.max_steps, min_lr_ratio=0.1)
    eval_batch = data.eval_batch(recipe)
    curve = []
    for until in [*range(eval_every, steps, eval_every), steps]:
        trainer.train(until_step=until)
        point = {"step": until, "train_loss": trainer.history[-1]["loss"], **score(model, eval_batch, data.newline_id)}
        curve.append(point)
        log(f"step {until}: train loss {point['train_loss']:.3f}, held-out loss {point['loss']:.3f}, "
            f"accuracy {point['accuracy']:.1%}, "
            f"top guess a newline {point['newline_guess_share']:.0%}")
    return curve


def unigram_baselines(data: StudyData, recipe: Recipe) -> dict:
    """Accuracy of guessing without context on the held-out masked tokens of ``recipe``'s evaluation.

    ``most_frequent``: always the most frequent training token. ``by_frequency``:
    a guess drawn from the training frequencies (expected accuracy sum_i p_train(i) p_heldout(i)).
    ``loss``: the cross-entropy of the training frequencies on the held-out tokens, the loss of
    a model that has learnt only how often each token occurs.
    """
    counts = Counter(token for segment in data.segments("train", recipe.newlines)[0] for token in segment)
    total = sum(counts.values())
    labels = data.eval_batch(recipe)["labels"]
    held_out = Counter(labels[labels != IGNORE_INDEX].tolist())
    n = sum(held_out.values())
    top_token, _ = counts.most_common(1)[0]
    # A token never seen in training gets half a count, so the loss stays finite.
    return {
        "top_token": data.tokenizer.decode([top_token]),
        "most_frequent": held_out[top_token] / n,
        "by_frequency": sum(counts[token] / total * count / n for token, count in held_out.items()),
        "loss": -sum(count / n * math.log(max(counts[token], 0.5) / total) for token, count in held_out.items()),
        "tokens": n,
    }
