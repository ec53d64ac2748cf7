"""What a model's ``forward`` returns: one small dataclass, fields left ``None`` when not computed."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .kv_cache import KVCache


@dataclass
class ModelOutput:
    """Outputs of every model in the library.

    - ``last_hidden_state``: ``(b t c)`` the final layer's token vectors.
    - ``pooler_output``: ``(b c)`` BERT's pooled ``[CLS]`` vector.
    - ``logits``: ``(b t v)`` for language models, ``(b num_labels)`` for classifiers.
    - ``nsp_logits``: ``(b 2)`` BERT's next-sentence prediction (0 = is next).
    - ``loss``: a scalar when labels were given.
    - ``hidden_states``: ``n_layers + 1`` tensors ``(b t c)`` (embeddings first), when asked.
    - ``attentions``: ``n_layers`` tensors ``(b h t s)``, when asked.
    - ``cache``: the per-layer ``KVCache`` list, when one was passed in.
    """

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    nsp_logits: torch.Tensor | None = None
    loss: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None
    cache: list[KVCache] | None = None
