"""The position-wise feed-forward network: the same two-layer MLP applied to every token.

Attention moves information *between* positions; the feed-forward network
then transforms each position on its own: widen (usually 4x), apply a
non-linearity, project back.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from .hook_points import HookPoint
from .registry import ACTIVATION_ALIASES, check_activation

# BERT uses the exact GELU, x * Phi(x) with the Gaussian CDF Phi; GPT-2 was
# trained with the tanh approximation of it. The two differ by up to ~1e-3,
# enough to break parity with a checkpoint if swapped.
ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_tanh": partial(F.gelu, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,  # x * sigmoid(x), also called swish: the gate of SwiGLU (Llama)
}
__all__ = ["ACTIVATIONS", "ACTIVATION_ALIASES", "FeedForward", "get_activation"]


def get_activation(name: str):
    """Look up an activation function by name (``gelu``, ``gelu_tanh``, ``relu``, ``silu`` or an HF alias)."""
    return ACTIVATIONS[check_activation(name)]


class FeedForward(nn.Module):
    """``(b t c) -> (b t c)``: expand to ``intermediate_size``, activate, contract, dropout."""

    def __init__(
        self, hidden_size: int, intermediate_size: int, activation: str = "gelu", dropout: float = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.expand = nn.Linear(hidden_size, intermediate_size, bias=bias)
        self.activation_name = activation
        self.activation = get_activation(activation)
        self.contract = nn.Linear(intermediate_size, hidden_size, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.hook_hidden = HookPoint()  # (b t intermediate), after the activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.activation(self.expand(x))
        if HookPoint.in_use:
            hidden = self.hook_hidden(hidden)
        return self.dropout(self.contract(hidden))

    def extra_repr(self) -> str:
        return f"activation={self.activation_name!r}"
