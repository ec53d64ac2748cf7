"""GeGLU feed-forward: the gated MLP of ``swiglu.py`` with GELU as the gate, as in ModernBERT.

Shazeer's "GLU Variants Improve Transformer" tried several gates; GELU
(GeGLU) and SiLU (SwiGLU) did best. Only the non-linearity differs:

    contract( gelu(gate(x)) * expand(x) )

Here the gate follows ``config.activation``: the exact GELU (``"gelu"``, as
ModernBERT) or its tanh approximation (``"gelu_tanh"``).
"""

from __future__ import annotations

from ..feedforward import get_activation
from .swiglu import SwiGLUFeedForward


class GeGLUFeedForward(SwiGLUFeedForward):
    """``(b t c) -> (b t c)``: ``contract(gelu(gate(x)) * expand(x))``, then dropout."""

    def __init__(
        self, hidden_size: int, intermediate_size: int, activation: str = "gelu", dropout: float = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__(hidden_size, intermediate_size, dropout=dropout, bias=bias)
        self.activation_name = activation
        self.gate_activation = get_activation(activation)

    def extra_repr(self) -> str:
        return f"activation={self.activation_name!r}"
