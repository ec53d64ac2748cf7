"""Position schemes: how a model knows where each token sits.

Attention by itself is blind to order: shuffle the tokens and each output
is shuffled the same way. A position scheme breaks that symmetry in one of
three places, and the base class below has one method for each:

- ``embed``: add a vector per position to the token embeddings
  (BERT and GPT-2 learn these vectors);
- ``rotate``: rotate queries and keys by an angle that depends on position
  (rotary embeddings);
- ``score_bias``: add a bias to the attention scores that depends on
  the distance between query and key (ALiBi).

A scheme overrides the methods it needs; the defaults do nothing.
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import POSITIONALS


class PositionScheme(nn.Module):
    """Base class: positions have no effect unless a subclass says otherwise.

    ``max_positions`` is the longest sequence the scheme supports
    (``None`` for schemes that extrapolate, such as ALiBi).
    """

    max_positions: int | None = None

    def embed(self, positions: torch.Tensor) -> torch.Tensor | None:
        """``positions (b t)`` -> vectors ``(b t c)`` added to token embeddings, or None."""
        return None

    def rotate(
        self, q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Queries/keys ``(b h t d)`` at ``positions (b t)`` -> position-aware queries/keys."""
        return q, k

    def score_bias(
        self, query_positions: torch.Tensor, key_positions: torch.Tensor
    ) -> torch.Tensor | None:
        """``(b t)``, ``(b s)`` -> a bias broadcastable to scores ``(b h t s)``, or None."""
        return None


@POSITIONALS.register("learned")
class LearnedPositions(PositionScheme):
    """One trained vector per position, as in BERT and GPT-2."""

    def __init__(self, hidden_size: int, max_positions: int, n_heads: int | None = None) -> None:
        super().__init__()
        self.max_positions = max_positions
        self.embedding = nn.Embedding(max_positions, hidden_size)

    def embed(self, positions: torch.Tensor) -> torch.Tensor:
        return self.embedding(positions)


@POSITIONALS.register("none")
class NoPositions(PositionScheme):
    """No position information at all: attention is then permutation-equivariant."""

    def __init__(self, hidden_size: int, max_positions: int, n_heads: int | None = None) -> None:
        super().__init__()
        self.max_positions = max_positions
