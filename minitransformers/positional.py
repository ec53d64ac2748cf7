"""Positions: how a model knows where each token sits.

Attention by itself is blind to order: shuffle the tokens and each output
is shuffled the same way. A positional scheme (``config.positional``)
breaks that symmetry in one of two places:

- **in the embeddings**: add one vector per position to the token vectors
  (BERT and GPT-2 learn these vectors, ``LearnedPositions``; the original
  Transformer used fixed waves, ``components/sinusoidal.py``);
- **inside attention**: rotate queries and keys by their position
  (``components/rotary.py``) or add a distance penalty to the scores
  (``components/alibi.py``). Such a scheme sets ``acts_in_attention = True``;
  the model adds nothing to the embeddings and each attention layer gets
  one as ``relative_positions`` (see ``blocks.py``).

Every scheme is a module called with ``positions (b t)`` that returns what
to add to the token embeddings ``(b t c)`` (a zero when it adds nothing),
and has ``max_positions``: the longest sequence it supports, ``None`` when
it has no limit (ALiBi).
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import POSITIONALS


class LearnedPositions(nn.Embedding):
    """One trained vector per position, as in BERT and GPT-2: ``positions (b t)`` -> ``(b t c)``.

    It *is* an embedding table, indexed by position instead of token id.
    """

    acts_in_attention = False

    def __init__(self, hidden_size: int, max_positions: int, n_heads: int | None = None) -> None:
        super().__init__(max_positions, hidden_size)
        self.max_positions = max_positions

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        # Checkpoints written before this class became an nn.Embedding call the table "embedding.weight".
        old_name = prefix + "embedding.weight"
        if old_name in state_dict and prefix + "weight" not in state_dict:
            state_dict[prefix + "weight"] = state_dict.pop(old_name)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class AddsNothing(nn.Module):
    """Base class of schemes that add nothing to the embeddings (none, rotary, ALiBi)."""

    acts_in_attention = False
    max_positions: int | None = None

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        return torch.zeros((), device=positions.device)


class NoPositions(AddsNothing):
    """No position information at all: attention is then permutation-equivariant."""

    def __init__(self, hidden_size: int, max_positions: int, n_heads: int | None = None) -> None:
        super().__init__()
        self.max_positions = max_positions


class ActsInAttention(AddsNothing):
    """Base class of schemes that act inside attention: rotary (``rotate``) and ALiBi (``score_bias``).

    ``MultiHeadAttention`` calls both when it holds one as ``relative_positions``;
    a scheme overrides the one it needs.
    """

    acts_in_attention = True

    def rotate(
        self, q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Queries/keys ``(b h t d)`` at ``positions (b t)`` -> position-aware queries/keys."""
        return q, k

    def score_bias(self, query_positions: torch.Tensor, key_positions: torch.Tensor) -> torch.Tensor | None:
        """``(b t)``, ``(b s)`` -> a bias broadcastable to scores ``(b h t s)``, or None."""
        return None


def build_positions(config) -> nn.Module:
    """The model's positional scheme, called on ``positions (b t)``: usually ``LearnedPositions``."""
    if config.positional == "learned":
        return LearnedPositions(config.hidden_size, config.max_positions)
    return POSITIONALS.build(
        config.positional, hidden_size=config.hidden_size, max_positions=config.max_positions,
        n_heads=config.n_heads,
        # A scheme's own options, e.g. {"base": 500000.0} for rotary (Llama 3).
        **config.extra.get("positional_kwargs", {}),
    )


def relative_positions(config) -> nn.Module | None:
    """A rotary or ALiBi module for one attention layer, or None when positions go in the embeddings."""
    if config.positional == "learned":
        return None
    scheme = POSITIONALS.resolve(config.positional)
    return build_positions(config) if getattr(scheme, "acts_in_attention", False) else None
