"""SwiGLU feed-forward: a gated MLP, as in PaLM and LLaMA.

The plain MLP computes ``contract(act(expand(x)))``. A gated one computes
two widenings of ``x``: one goes through SiLU (``z * sigmoid(z)``) and acts
as a gate that decides, number by number, how much of the other passes:

    contract( silu(gate(x)) * expand(x) )

Three matrices instead of two; LLaMA shrinks ``intermediate_size`` to
about 2/3 of ``4 * hidden_size`` to keep the parameter count. Here the
config's ``intermediate_size`` is used as given.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..hook_points import HookPoint


class SwiGLUFeedForward(nn.Module):
    """``(b t c) -> (b t c)``: ``contract(silu(gate(x)) * expand(x))``, then dropout.

    ``activation`` is accepted because every feed-forward is built with it,
    and ignored: SwiGLU's non-linearity is SiLU by definition (``geglu.py``
    is the same network with GELU). LLaMA has no biases: a config with
    ``bias=False`` builds it without them.
    """

    def __init__(
        self, hidden_size: int, intermediate_size: int, activation: str = "silu", dropout: float = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.gate = nn.Linear(hidden_size, intermediate_size, bias=bias)
        self.expand = nn.Linear(hidden_size, intermediate_size, bias=bias)
        # Named "contract" like the plain MLP, so GPT's depth-scaled init finds it.
        self.contract = nn.Linear(intermediate_size, hidden_size, bias=bias)
        self.gate_activation = F.silu
        self.dropout = nn.Dropout(dropout)
        self.hook_hidden = HookPoint()  # (b t intermediate), the gated values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gated = self.gate_activation(self.gate(x)) * self.expand(x)
        if HookPoint.in_use:
            gated = self.hook_hidden(gated)
        return self.dropout(self.contract(gated))
