"""The plain-PyTorch reference for ``bench_training.py``: a minimal GPT and its training step.

Written the way a speed-minded PyTorch user would, with nothing of the
library: fused ``F.scaled_dot_product_attention(is_causal=True)``, one
linear for q, k, v, tanh GELU, learned positions, the LM head tied to the
token embeddings, ``foreach`` AdamW, no hooks, and batches cut as random
windows of one token tensor (as nanoGPT does). Same shapes, same
initialisation scale and the same parameter count as our ``GPTLMHeadModel``,
so the two steps do the same arithmetic.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.up, self.down = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        dropout = self.dropout if self.training else 0.0
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout)
        x = x + F.dropout(self.proj(attended.transpose(1, 2).reshape(b, t, c)), dropout, self.training)
        hidden = F.gelu(self.up(self.norm2(x)), approximate="tanh")
        return x + F.dropout(self.down(hidden), dropout, self.training)


class ReferenceGPT(nn.Module):
    def __init__(self, vocab: int, width: int, layers: int, heads: int, block: int, dropout: float) -> None:
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab, width), nn.Embedding(block, width)
        self.blocks = nn.ModuleList(Block(width, heads, dropout) for _ in range(layers))
        self.norm, self.dropout = nn.LayerNorm(width), dropout
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.tokens.weight
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("proj.weight", "down.weight")) else 0.02
                nn.init.normal_(p, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = F.dropout(self.tokens(ids) + self.positions(positions), self.dropout, self.training)
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.norm(x))
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


class ReferenceTraining:
    """``step()``: a random batch of windows, forward, backward, clip to 1, foreach AdamW."""

    def __init__(self, model: ReferenceGPT, data: torch.Tensor, batch: int, block: int,
                 device: torch.device, autocast_dtype: torch.dtype | None, compile: bool = False,
                 fused_adamw: bool | None = None) -> None:
        self.model, self.data, self.batch, self.block = model.to(device).train(), data, batch, block
        self.device, self.autocast_dtype = device, autocast_dtype
        decay = [p for p in model.parameters() if p.dim() >= 2]
        rest = [p for p in model.parameters() if p.dim() < 2]
        # foreach on the CPU, as the issue defines the reference; fused on CUDA (or when asked).
        fused = device.type == "cuda" if fused_adamw is None else fused_adamw
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
            lr=6e-4, betas=(0.9, 0.95), foreach=not fused, fused=fused or None,
        )
        self.forward = torch.compile(model) if compile else model

    def get_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        starts = torch.randint(len(self.data) - self.block - 1, (self.batch,))
        x = torch.stack([self.data[i : i + self.block] for i in starts])
        y = torch.stack([self.data[i + 1 : i + 1 + self.block] for i in starts])
        if self.device.type == "cuda":
            return x.pin_memory().to(self.device, non_blocking=True), y.pin_memory().to(self.device, non_blocking=True)
        return x, y

    def step(self) -> None:
        x, y = self.get_batch()
        with torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.bfloat16,
                            enabled=self.autocast_dtype is not None):
            loss = self.forward(x, y)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
