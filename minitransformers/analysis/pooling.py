"""Frozen sentence vectors for every pooling at once: one forward pass, several ways to pool.

:func:`minitransformers.inference.sentence_embeddings` runs the model once
per pooling. The pair tasks compare every pooling the library has (``mean``,
``cls``, ``last``), so here the token vectors of a batch are pooled all three
ways from the same forward pass. The texts are run shortest first, so a batch
pads little, and the rows come back in the order the texts were given.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..inference._common import evaluating, model_device
from ..inference.embeddings import POOLINGS, _body, _pad_right, pool


def poolings_for(model) -> tuple[str, ...]:
    """The poolings that make sense for ``model``: GPT's first token has seen only itself, so no ``cls``."""
    _, is_causal = _body(model)
    return tuple(name for name in POOLINGS if not (is_causal and name == "cls"))


def pooled_embeddings(model, tokenizer, texts: Sequence[str], poolings: Sequence[str] | None = None,
                      batch_size: int = 32, max_length: int | None = None) -> dict[str, np.ndarray]:
    """``{pooling: (n, c) float32 array}`` for the ``n`` texts, not normalised (the probes scale them).

    ``max_length`` (default: the model's ``max_positions``) truncates long texts.
    """
    poolings = poolings_for(model) if poolings is None else tuple(poolings)
    allowed = poolings_for(model)
    refused = [name for name in poolings if name not in allowed]
    if refused:
        raise ValueError(f"poolings {refused} do not suit a {type(model).__name__}; choose among {allowed}")
    if not texts:
        raise ValueError("texts is empty: give at least one string")
    body, _ = _body(model)
    max_length = body.config.max_positions if max_length is None else min(max_length, body.config.max_positions)
    encoded = [tokenizer.encode(text, truncation=True, max_length=max_length) for text in texts]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    rows: dict[str, list[torch.Tensor]] = {name: [] for name in poolings}
    with evaluating(body):
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            input_ids, attention_mask = _pad_right([encoded[i] for i in chosen], pad_id, model_device(body))
            hidden = body(input_ids, attention_mask=attention_mask).last_hidden_state.float()  # (b t c)
            for name in poolings:
                rows[name].append(pool(hidden, attention_mask, name).cpu())
    back = torch.as_tensor(np.argsort(order))  # position of each original text in the sorted run
    return {name: torch.cat(parts)[back].numpy() for name, parts in rows.items()}
