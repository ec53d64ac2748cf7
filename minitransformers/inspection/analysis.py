"""Summaries of attention weights: rollout across layers and entropy per head.

Pure tensor functions: they take the ``attentions`` a model returns
(``output_attentions=True``) or a cache holds (``cache.attention_weights()``),
a sequence of ``l`` tensors ``(b h t s)``, and touch no model.

- **Attention rollout** (Abnar & Zuidema, 2020) asks how much each input
  token flows into each position after *all* layers, not just one. Each
  layer's weights are averaged over heads, mixed half-and-half with the
  identity (the residual connection carries a token's own vector forward
  untouched), re-normalised, and multiplied through the layers.
- **Entropy** of a query's weights says how spread its attention is: 0
  nats when it looks at one key, ``log(s)`` when it looks at ``s`` keys
  evenly. Averaged per head it separates sharp heads (previous token,
  ``[SEP]``) from diffuse, "bag of words" heads.
- **Hidden-state similarity** is the one summary here of the hidden states
  rather than the weights: the mean cosine similarity of the vectors of two
  different positions. Near 1, every position carries nearly the same
  vector, the collapse Gopalani & Hu (2025) see while the loss sits on its
  plateau; near 0, the positions point in unrelated directions.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from einops import einsum, rearrange, reduce

HEAD_FUSIONS = ("mean", "max", "min")


def _as_stack(attentions: Sequence[torch.Tensor] | torch.Tensor) -> torch.Tensor:
    """``l`` tensors ``(b h t s)`` (or one ``(l b h t s)`` tensor) -> ``(l b h t s)``, checked."""
    stacked = attentions if isinstance(attentions, torch.Tensor) else torch.stack(list(attentions))
    if stacked.dim() != 5:
        raise ValueError(
            f"expected attention weights of shape (layers, batch, heads, queries, keys), i.e. the "
            f"model's `attentions` tuple, got shape {tuple(stacked.shape)}; "
            f"for one example add the batch axis with w.unsqueeze(0)"
        )
    return stacked


def attention_rollout(
    attentions: Sequence[torch.Tensor] | torch.Tensor,
    head_fusion: str = "mean",
    residual: bool = True,
) -> torch.Tensor:
    """How much each key token flows into each query position through all layers: ``(b t s)``.

    ``attentions``: ``l`` tensors ``(b h t t)``. ``head_fusion`` combines
    the heads of a layer (``"mean"``, ``"max"`` or ``"min"``); with
    ``residual=True`` each layer is ``0.5 * A + 0.5 * I``, renormalised so
    rows sum to one. Row ``i`` of the result sums to 1 (or 0 for a row whose
    every key was masked).
    """
    stacked = _as_stack(attentions).float()
    if head_fusion not in HEAD_FUSIONS:
        raise ValueError(f"unknown head_fusion {head_fusion!r}; choose one of {HEAD_FUSIONS}")
    t, s = stacked.shape[-2:]
    if t != s:
        raise ValueError(f"rollout needs self-attention over the whole sequence (t == s), "
                         f"got t={t}, "
                         f"s={s}; do not use weights computed with a KV cache")
    per_layer = reduce(stacked, "l b h t s -> l b t s", head_fusion)
    if residual:
        identity = torch.eye(t, dtype=per_layer.dtype, device=per_layer.device)
        per_layer = 0.5 * per_layer + 0.5 * identity
        per_layer = per_layer / per_layer.sum(dim=-1, keepdim=True)
    rollout = per_layer[0]
    for layer in per_layer[1:]:
        # Later layers read from earlier ones: position i at layer l mixes positions j of
        # layer l - 1, each of which already mixes input tokens k.
        rollout = einsum(layer, rollout, "b t j, b j s -> b t s")
    return rollout


def attention_entropy(weights: torch.Tensor, normalize: bool = False) -> torch.Tensor:
    """Entropy (nats) of each query's attention distribution: ``(..., t, s) -> (..., t)``.

    With ``normalize=True`` it is divided by ``log`` of the number of keys
    with non-zero weight (the keys the query could see: masked keys get
    exactly 0), giving 0 (one key) to 1 (uniform over what it could see).
    """
    probs = weights.float()
    entropy = -(probs * torch.log(probs.clamp_min(1e-12))).sum(dim=-1)
    if normalize:
        support = (probs > 0).sum(dim=-1).clamp_min(2).float()
        entropy = entropy / torch.log(support)
    return entropy


def head_entropy(
    attentions: Sequence[torch.Tensor] | torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    normalize: bool = False,
) -> torch.Tensor:
    """Mean attention entropy of every head: ``l`` tensors ``(b h t s)`` -> ``(l h)``.

    The mean runs over the batch and the query positions; with an
    ``attention_mask (b t)`` (1 real, 0 padding) padded queries are left
    out, so padding does not make heads look sharper or more diffuse.
    """
    stacked = _as_stack(attentions)
    per_query = attention_entropy(stacked, normalize=normalize)  # (l b h t)
    if attention_mask is None:
        return reduce(per_query, "l b h t -> l h", "mean")
    queries = attention_mask[:, -per_query.shape[-1]:].to(per_query.dtype)  # (b t)
    total = einsum(per_query, queries, "l b h t, b t -> l h")
    return total / queries.sum().clamp_min(1.0)


def hidden_state_similarity(hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean cosine similarity of the hidden states of two different positions: ``(... b t c) -> (... b)``.

    ``hidden_states`` is one layer's output ``(b t c)``, or a stack of layers
    ``(l b t c)`` (``torch.stack(output.hidden_states)``), which gives
    ``(l b)``. Every pair of positions ``i != j`` counts once; a position's
    similarity with itself (always 1) is left out. With an ``attention_mask
    (b t)`` (1 real, 0 padding) only pairs of real positions count, so padding
    neither hides nor fakes a collapse. The result runs from -1 to 1; 1 means
    every position holds the same direction.
    """
    if hidden_states.dim() < 3:
        raise ValueError(f"expected hidden states of shape (batch, positions, width), or (layers, batch, "
                         f"positions, width), got shape {tuple(hidden_states.shape)}; for one example add "
                         f"the batch axis with h.unsqueeze(0)")
    b, t = hidden_states.shape[-3:-1]
    if attention_mask is None:
        real = torch.ones(b, t, dtype=torch.bool, device=hidden_states.device)
    elif tuple(attention_mask.shape) != (b, t):
        raise ValueError(f"attention_mask has shape {tuple(attention_mask.shape)}, expected (batch, positions) "
                         f"= {(b, t)} like the hidden states {tuple(hidden_states.shape)}")
    else:
        real = attention_mask.bool()
    too_short = (real.sum(dim=-1) < 2).nonzero().flatten().tolist()
    if too_short:
        raise ValueError(f"examples {too_short} have fewer than 2 real positions, so no pair to compare; "
                         f"leave them out of the batch")
    unit = F.normalize(hidden_states.float(), dim=-1)  # a zero vector stays zero: similarity 0
    cosines = einsum(unit, unit, "... b t c, ... b s c -> ... b t s")
    pairs = rearrange(real, "b t -> b t 1") & rearrange(real, "b s -> b 1 s")
    pairs = pairs & ~torch.eye(t, dtype=torch.bool, device=pairs.device)  # (b t s): i != j, both real
    total = (cosines * pairs).sum(dim=(-2, -1))
    return total / pairs.sum(dim=(-2, -1))
