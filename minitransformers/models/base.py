"""What every model shares: weight initialisation, parameter counts, a summary, loading and saving."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class TransformerModel(nn.Module):
    """Base class of mini-BERT and mini-GPT models (and their task heads)."""

    config_class: type = None  # set by subclasses

    def init_weights(self) -> None:
        """Initialise as BERT and GPT-2 did: N(0, 0.02) weights, zero biases, unit norms."""
        std = self.config.initializer_range
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=std)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, mean=0.0, std=std)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of parameters; tied weights (one tensor used twice) count once."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def summary(self) -> str:
        """A table of parameter counts per top-level part, for a first look at a model."""
        seen: set[int] = set()
        rows = []
        for name, child in self.named_children():
            fresh = [p for p in child.parameters() if id(p) not in seen]
            shared = sum(1 for p in child.parameters() if id(p) in seen)
            seen.update(id(p) for p in fresh)
            count = sum(p.numel() for p in fresh)
            note = "  (shares weights with a part above)" if shared and not fresh else ""
            rows.append(f"  {name:<28} {type(child).__name__:<26} {count:>12,}{note}")
        total = self.num_parameters()
        header = f"{type(self).__name__}: {total:,} parameters ({total / 1e6:.2f} M)"
        return "\n".join([header, *rows])

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def run_with_cache(self, *args, **kwargs):
        """Run ``forward`` and also return a cache of named activations (see ``inspection``)."""
        from ..inspection import run_with_cache

        return run_with_cache(self, *args, **kwargs)

    @classmethod
    def from_pretrained(cls, path: str | Path, **kwargs):
        """Build this model from a Hugging Face-format directory (``config.json`` + weights)."""
        from ..pretrained import load_pretrained

        return load_pretrained(cls, path, **kwargs)

    def save_pretrained(self, path: str | Path) -> None:
        """Write ``config.json`` + ``model.safetensors`` that ``transformers`` can load."""
        from ..pretrained import save_pretrained

        save_pretrained(self, path)
