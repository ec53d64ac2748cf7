"""RMSNorm: LayerNorm without the centring, as in T5 and LLaMA.

LayerNorm subtracts the mean and divides by the standard deviation, then
scales and shifts. RMSNorm only divides by the root mean square
``sqrt(mean(x^2))`` and scales: no mean, no shift. It is cheaper and, in
practice, trains as well; what matters is keeping each token vector's size
in check, not its mean.
"""

from __future__ import annotations

import torch
from torch import nn



class RMSNorm(nn.Module):
    """``(... c) -> (... c)``: ``x / sqrt(mean(x^2) + eps) * weight``."""

    def __init__(self, hidden_size: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Squares of half-precision numbers overflow easily: compute in float32.
        x32 = x.float()
        rms = torch.sqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return (x32 / rms).to(x.dtype) * self.weight

    def extra_repr(self) -> str:
        return f"{self.weight.numel()}, eps={self.eps}"
