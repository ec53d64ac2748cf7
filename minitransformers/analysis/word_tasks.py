"""The two word-guessing tasks of the pair, play by play: fill in a hidden word, and guess the next one.

* **Fill-in** is :func:`minitransformers.recipes.evaluation.both_sides_metrics`
  run on each play alone: the same hidden tokens for both, BERT reading both
  sides of each gap, GPT only the left. Scoring play by play gives a spread.
* **Next word** hides what comes *after* a left context: GPT reads the
  context and guesses the next token, its own task; BERT reads
  ``<cls> context <mask> <sep>``, a gap with nothing to its right, which
  its pre-training rarely showed it.

Both score top-1 accuracy against the best context-free guess (always the
token most frequent among the scored ones).
"""

from __future__ import annotations

from collections import Counter

import torch

from ..inference._common import evaluating
from ..recipes.evaluation import both_sides_metrics


def fill_in_by_play(bert, gpt, tokenizer, works: dict[str, str], seed: int = 1) -> dict[str, dict]:
    """``{play: both_sides_metrics(...)}``, each play's windows masked with the same ``seed``."""
    return {play: both_sides_metrics(bert, gpt, tokenizer, {play: text}, seed=seed) for play, text in works.items()}


@torch.no_grad()
def next_word_scores(bert, gpt, tokenizer, text: str, targets: int = 250, context: int | None = None,
                     seed: int = 0, batch_size: int = 32) -> dict[str, float]:
    """Top-1 next-token accuracy of GPT and of BERT (a ``<mask>`` at the end) on ``targets`` tokens of ``text``.

    Each target is a token with ``context`` tokens before it (default: as many as BERT's context
    holds besides ``<cls>``, ``<mask>`` and ``<sep>``, and no more than GPT's), drawn at random
    positions with ``seed``. Both models read exactly those ``context`` tokens.
    """
    largest = min(bert.config.max_positions - 3, gpt.config.max_positions)
    context = largest if context is None else context
    if not 1 <= context <= largest:
        raise ValueError(f"context must be between 1 and {largest} (the models' context less BERT's three "
                         f"special tokens), got {context}")
    ids = torch.tensor(tokenizer.encode_ordinary(text))
    if len(ids) <= context:
        raise ValueError(f"the text has {len(ids)} tokens, too few for a left context of {context}; give a longer text")
    generator = torch.Generator().manual_seed(seed)
    positions = torch.randperm(len(ids) - context, generator=generator)[:targets] + context
    answers = ids[positions]
    bert_guesses, gpt_guesses = [], []
    with evaluating(bert), evaluating(gpt):
        for start in range(0, len(positions), batch_size):
            chosen = positions[start:start + batch_size]
            left = torch.stack([ids[p - context:p] for p in chosen.tolist()])  # (b context)
            gpt_logits = gpt(left.to(gpt.device), only_last_position=True).logits[:, -1]  # (b v)
            b = len(chosen)
            cls, mask, sep = (torch.full((b, 1), token) for token in
                              (tokenizer.cls_token_id, tokenizer.mask_token_id, tokenizer.sep_token_id))
            bert_input = torch.cat([cls, left, mask, sep], dim=1).to(bert.device)  # <cls> left <mask> <sep>
            hidden = bert.bert(bert_input).last_hidden_state[:, -2]  # (b c) at the <mask>
            bert_logits = bert.mlm_head(hidden)  # (b v): the head at the one scored position only
            gpt_guesses.append(gpt_logits.argmax(-1).cpu())
            bert_guesses.append(bert_logits.argmax(-1).cpu())
    bert_guess, gpt_guess = torch.cat(bert_guesses), torch.cat(gpt_guesses)
    most_frequent, count = Counter(answers.tolist()).most_common(1)[0]
    return {"bert": float((bert_guess == answers).float().mean()), "gpt": float((gpt_guess == answers).float().mean()),
            "unigram": count / len(answers), "unigram_token": tokenizer.decode([most_frequent]),
            "tokens": len(answers)}


def next_word_by_play(bert, gpt, tokenizer, works: dict[str, str], targets: int = 250,
                      seed: int = 0) -> dict[str, dict]:
    """``{play: next_word_scores(...)}`` for each play of ``works``."""
    return {play: next_word_scores(bert, gpt, tokenizer, text, targets=targets, seed=seed)
            for play, text in works.items()}
