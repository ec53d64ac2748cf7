"""Sentence embeddings: one vector per text, pooled from the model's token vectors.

A transformer gives one vector per token ``(b, t, c)``; to compare whole
sentences we pool them into one ``(b, c)``:

- ``"mean"``: the average over real tokens (padding excluded), the
  sentence-transformers convention, then L2-normalised so that a dot
  product is the cosine similarity;
- ``"cls"``: BERT's first token, ``[CLS]``, which attends to the whole text;
- ``"last"``: the last real token, the only one in a causal model (GPT)
  that has seen the whole text.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from einops import reduce

from ._common import evaluating, model_device

POOLINGS = ("mean", "cls", "last")


def pool(hidden_states: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """Token vectors ``(b, t, c)`` and a 1/0 mask ``(b, t)`` (right padding) -> ``(b, c)``."""
    if pooling == "mean":
        weights = attention_mask.to(hidden_states.dtype).unsqueeze(-1)  # (b, t, 1)
        total = reduce(hidden_states * weights, "b t c -> b c", "sum")
        count = reduce(weights, "b t one -> b one", "sum").clamp(min=1e-9)
        return total / count
    if pooling == "cls":
        return hidden_states[:, 0]
    if pooling == "last":
        last = attention_mask.long().sum(dim=1) - 1  # index of each row's last real token
        return hidden_states[torch.arange(hidden_states.shape[0]), last]
    raise ValueError(f"unknown pooling {pooling!r}; choose one of {POOLINGS}")


def sentence_embeddings(
    model,
    tokenizer,
    texts: str | Sequence[str],
    pooling: str = "mean",
    normalize: bool = True,
    batch_size: int = 32,
) -> torch.Tensor:
    """Embed ``texts`` (n strings) -> ``(n, c)`` float tensor on the CPU.

    ``model``: a BERT (``BertModel`` or any head model: its body is used) or
    a GPT (``GPTModel``/``GPTLMHeadModel``). Texts longer than the model's
    ``max_positions`` are truncated. ``normalize=True`` scales each row to length 1.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; choose one of {POOLINGS}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    texts = [texts] if isinstance(texts, str) else list(texts)
    if not texts:
        raise ValueError("texts is empty: give at least one string")
    body, is_causal = _body(model)
    if is_causal and pooling == "cls":
        raise ValueError("pooling='cls' takes the first token, which in a causal model (GPT) has seen "
                         "only itself; use pooling='last' or 'mean'")
    max_length = body.config.max_positions
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = model_device(body)
    rows = []
    with evaluating(body):
        for start in range(0, len(texts), batch_size):
            encoded = [tokenizer.encode(text, truncation=True, max_length=max_length)
                       for text in texts[start:start + batch_size]]
            input_ids, attention_mask = _pad_right(encoded, pad_id, device)
            hidden = body(input_ids, attention_mask=attention_mask).last_hidden_state  # (b, t, c)
            rows.append(pool(hidden.float(), attention_mask, pooling).cpu())
    embeddings = torch.cat(rows)
    return F.normalize(embeddings, dim=-1) if normalize else embeddings


def _body(model) -> tuple[torch.nn.Module, bool]:
    """The part of ``model`` that makes token vectors, and whether it reads left to right only."""
    from ..models import BertModel, GPTModel
    from ..body import find_body

    body, _ = find_body(model)
    if isinstance(body, (BertModel, GPTModel)):
        return body, isinstance(body, GPTModel)
    raise TypeError(f"sentence_embeddings needs a BERT or GPT model from minitransformers, "
                    f"got {type(model).__name__}")


def _pad_right(encoded: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Ragged id lists -> ``input_ids`` and ``attention_mask``, both ``(b, t)``, padded on the right."""
    width = max(len(ids) for ids in encoded)
    if width == 0:
        raise ValueError("a text encoded to zero tokens; give non-empty texts")
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros(len(encoded), width, dtype=torch.long)
    for row, ids in enumerate(encoded):
        input_ids[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention_mask[row, :len(ids)] = 1
    return input_ids.to(device), attention_mask.to(device)
