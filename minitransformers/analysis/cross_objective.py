"""Ettin's second question at mini scale: can a trained GPT become a BERT by more training?

mini-GPT and mini-BERT are built from the same attention module; what makes
GPT causal is one attribute of it, ``attention.causal``. Switch it off in
every block (:func:`make_bidirectional`) and the trained GPT reads both sides,
like BERT. It has never been trained to use the right side, though, so we
continue its training with BERT's objective (masked-token prediction) for a
fixed budget, and give mini-BERT the same extra budget on the same batches,
so the question is fair: does the converted GPT catch up?

Which output predicts a hidden token? GPT's head was trained to say what
comes *after* each position, so the converted GPT guesses the token at ``i``
from its output at ``i - 1`` (:class:`ShiftedMaskedLM`; LLM2Vec calls this
masked next-token prediction). Its ``<mask>``, ``<cls>`` and ``<sep>``
embeddings were never trained: learning them is part of the budget.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..data import IGNORE_INDEX, concatenate_ids, mask_tokens
from ..outputs import ModelOutput
from ..training.masked_positions import MaskedPositionsLoss
from ..training.optim import make_optimizer, make_scheduler


def make_bidirectional(gpt: nn.Module) -> nn.Module:
    """A copy of a ``GPTLMHeadModel`` whose every attention layer reads both sides (``causal = False``)."""
    converted = copy.deepcopy(gpt)
    layers = [module for module in converted.modules() if getattr(module, "causal", None) is True]
    if not layers:
        raise TypeError(f"found no causal attention layer in {type(gpt).__name__}; give a GPT whose attention "
                        f"modules store causal=True (MultiHeadAttention does)")
    for layer in layers:
        layer.causal = False  # the causal mask is built from this flag at every call
    return converted


class ShiftedMaskedLM(nn.Module):
    """A bidirectional GPT as a masked LM: ``input_ids (b t)`` -> ``logits (b t v)``, row ``i`` guessing token ``i``.

    Row ``i`` is the GPT head's output at ``i - 1``; row 0 has nothing before it and repeats
    row 1's source (never scored: no window's first token is). ``config`` is the GPT's, so
    ``both_sides_metrics`` can score it where it scores BERT.
    """

    def __init__(self, gpt: nn.Module) -> None:
        super().__init__()
        self.gpt = gpt
        self.config = gpt.config

    @property
    def device(self) -> torch.device:
        return self.gpt.device

    def forward(self, input_ids: torch.Tensor) -> ModelOutput:
        logits = self.gpt(input_ids).logits  # (b t v): row j guesses token j + 1
        return ModelOutput(logits=torch.cat([logits[:, :1], logits[:, :-1]], dim=1))

    def masked_loss(self, input_ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy at the labelled positions, the head run only where it is scored."""
        hidden = self.gpt.gpt(input_ids).last_hidden_state  # (b t c)
        chosen = labels[:, 1:] != IGNORE_INDEX  # token i + 1 is guessed from position i
        logits = self.gpt.lm_head(hidden[:, :-1][chosen])  # (n v)
        return F.cross_entropy(logits.float(), labels[:, 1:][chosen])


def token_stream(tokenizer, works: dict[str, str], length: int) -> torch.Tensor:
    """The works as one token stream ``(n,)``, ``<|endoftext|>`` between them, longer than ``length``."""
    stream = concatenate_ids([tokenizer.encode_ordinary(text) for text in works.values()],
                             separator_id=tokenizer.eos_token_id)
    if len(stream) <= length:
        raise ValueError(f"the works hold {len(stream)} tokens, too few for windows of {length}")
    return stream


def masked_batches(tokenizer, stream: torch.Tensor, length: int, steps: int, batch_size: int,
                   mask_probability: float, seed: int):
    """``steps`` batches of ``<cls> window <sep>`` with BERT's 80/10/10 masking: ``(input_ids, labels)``, (b t+2).

    Seeded: the same arguments give the same batches, so both models can train on them.
    """
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        starts = torch.randint(len(stream) - length, (batch_size,), generator=generator)
        windows = torch.stack([stream[s:s + length] for s in starts.tolist()])  # (b t)
        hidden, labels = mask_tokens(windows, mask_token_id=tokenizer.mask_token_id, vocab_size=tokenizer.vocab_size,
                                     special_token_ids=[tokenizer.eos_token_id], mask_probability=mask_probability,
                                     generator=generator)
        cls, sep = (torch.full((batch_size, 1), token) for token in (tokenizer.cls_token_id, tokenizer.sep_token_id))
        ignore = torch.full((batch_size, 1), IGNORE_INDEX)
        yield torch.cat([cls, hidden, sep], dim=1), torch.cat([ignore, labels, ignore], dim=1)


def continue_masked_lm(model: nn.Module, tokenizer, stream: torch.Tensor, *, steps: int, batch_size: int = 16,
                       learning_rate: float = 3e-4, mask_probability: float = 0.4, length: int | None = None,
                       seed: int = 0) -> list[float]:
    """Train a ``BertForPreTraining`` or a :class:`ShiftedMaskedLM` in place on masked tokens; the loss per step.

    Windows of ``length`` tokens (default: the model's context less ``<cls>`` and ``<sep>``).
    The pre-training optimiser (AdamW, weight decay 0.1 on the matrices only), a linear warm-up
    over the first tenth of the steps, then a cosine to a tenth of ``learning_rate``. The model
    keeps its own dropout.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if isinstance(model, ShiftedMaskedLM):
        loss_of = model.masked_loss
    else:
        sparse = MaskedPositionsLoss(model)  # MLM only: no next_sentence_label is given
        loss_of = lambda input_ids, labels: sparse(input_ids, labels=labels).loss  # noqa: E731
    optimizer = make_optimizer(model, learning_rate=learning_rate, weight_decay=0.1)
    schedule = make_scheduler(optimizer, warmup_steps=max(1, steps // 10), max_steps=steps, min_lr_ratio=0.1)
    length = model.config.max_positions - 2 if length is None else length
    if length + 2 > model.config.max_positions:
        raise ValueError(f"windows of {length} tokens plus <cls> and <sep> exceed max_positions="
                         f"{model.config.max_positions}; give length <= {model.config.max_positions - 2}")
    losses = []
    model.train()
    for input_ids, labels in masked_batches(tokenizer, stream, length, steps, batch_size, mask_probability, seed):
        loss = loss_of(input_ids.to(model.device), labels.to(model.device))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    model.eval()
    return losses


def cross_objective_fill_in(bert: nn.Module, gpt: nn.Module, tokenizer, train_works: dict[str, str],
                            test_works: dict[str, str], *, steps: int, batch_size: int = 16,
                            mask_probability: float = 0.4, seed: int = 0) -> dict[str, dict[str, float]]:
    """Fill-in accuracy per test play of four models, on the same hidden tokens (``both_sides_metrics``):

    ``bert`` as given, ``bert_continued`` (``steps`` more MLM steps), ``gpt_unmasked`` (the causal
    mask switched off, no training) and ``gpt_continued`` (switched off, then the same ``steps`` on
    the same batches); ``gpt_left`` is the plain GPT reading the left side only. The given models
    are not changed.
    """
    from ..recipes.evaluation import both_sides_metrics

    length = min(bert.config.max_positions, gpt.config.max_positions) - 2
    stream = token_stream(tokenizer, train_works, length)
    options = dict(steps=steps, batch_size=batch_size, mask_probability=mask_probability, length=length, seed=seed)
    bert_continued = copy.deepcopy(bert)
    continue_masked_lm(bert_continued, tokenizer, stream, **options)
    gpt_unmasked = ShiftedMaskedLM(make_bidirectional(gpt))
    gpt_continued = copy.deepcopy(gpt_unmasked)
    continue_masked_lm(gpt_continued, tokenizer, stream, **options)
    scores = {}
    for play, text in test_works.items():
        work = {play: text}
        plain = both_sides_metrics(bert, gpt, tokenizer, work)
        scores[play] = {"bert": plain["bert_both_sides"], "gpt_left": plain["gpt_left_only"],
                        "unigram": plain["unigram"]}
        # The same windows and masks again (same seed); GPT's left-only side is known, so skip it.
        skip_gpt = _NoGuesses(gpt.config)
        for name, model in (("bert_continued", bert_continued), ("gpt_unmasked", gpt_unmasked),
                            ("gpt_continued", gpt_continued)):
            scores[play][name] = both_sides_metrics(model, skip_gpt, tokenizer, work)["bert_both_sides"]
    return scores


class _NoGuesses(nn.Module):
    """Stands in for GPT in ``both_sides_metrics`` when only the other side is wanted: one logit per position."""

    def __init__(self, config) -> None:
        super().__init__()
        self.config = config  # both_sides_metrics reads max_positions to cut the same windows
        self.device = torch.device("cpu")

    def forward(self, input_ids: torch.Tensor) -> ModelOutput:
        return ModelOutput(logits=torch.zeros(*input_ids.shape, 1))
