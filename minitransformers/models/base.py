"""What every model shares: the ignore index, input checks, and ``TransformerModel``.

``TransformerModel`` is the base class of mini-BERT, mini-GPT and their
task heads: weight initialisation, parameter counts, a summary, hook points,
loading and saving. The input checks make mistakes fail here with a clear
message, not deep inside torch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from ..hook_points import HookPoint, hook_points, layers_repr

IGNORE_INDEX = -100  # label value meaning "no loss here" (cross-entropy skips it), as in transformers


_values_checked_elsewhere = False  # see values_checked_elsewhere()


@contextlib.contextmanager
def values_checked_elsewhere() -> Iterator[None]:
    """Inside, models skip reading their inputs' values: the caller has checked them already.

    Reading a GPU tensor's values makes the CPU wait for the GPU. The Trainer
    checks each batch on the CPU, before copying it to the GPU, and runs the
    model inside this context, so training never waits on these checks.
    """
    global _values_checked_elsewhere
    before, _values_checked_elsewhere = _values_checked_elsewhere, True
    try:
        yield
    finally:
        _values_checked_elsewhere = before


def _skip_value_checks() -> bool:
    # Value checks read tensor contents (a device sync and a graph break
    # under torch.compile), so compiled models skip them, as do callers that checked.
    return torch.compiler.is_compiling() or _values_checked_elsewhere


def check_ids(name: str, ids: torch.Tensor, upper: int, what: str) -> None:
    """``ids`` must be an integer ``(b, t)`` tensor with values in ``[0, upper)``."""
    if not isinstance(ids, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(ids).__name__}")
    if ids.dim() != 2:
        hint = " (add a batch dimension with .unsqueeze(0))" if ids.dim() == 1 else ""
        raise ValueError(f"{name} must have shape (batch, seq_len), got shape {tuple(ids.shape)}{hint}")
    if ids.dtype.is_floating_point or ids.dtype == torch.bool or ids.dtype.is_complex:
        raise TypeError(f"{name} must hold integer ids (torch.long), got dtype {ids.dtype}")
    if ids.numel() == 0 or _skip_value_checks():
        return
    low, high = (int(v) for v in torch.aminmax(ids))  # one pass, one device sync
    if low < 0 or high >= upper:
        bad = low if low < 0 else high
        raise ValueError(f"{name} contains {bad}, outside {what} [0, {upper - 1}]")


def check_inputs(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    vocab_size: int,
    max_positions: int | None,
    past_length: int = 0,
) -> None:
    """Validate token ids, sequence length and the attention mask's shape."""
    check_ids("input_ids", input_ids, vocab_size, "the vocabulary")
    b, t = input_ids.shape
    if t == 0:
        raise ValueError("input_ids is empty along the sequence dimension: give at least one token")
    total = past_length + t
    if max_positions is not None and total > max_positions:
        raise ValueError(
            f"sequence length {total} exceeds max_positions={max_positions}; truncate the input "
            f"or build the model with a larger max_positions"
        )
    if attention_mask is not None:
        if not isinstance(attention_mask, torch.Tensor):
            raise TypeError(f"attention_mask must be a torch.Tensor, got {type(attention_mask).__name__}")
        if tuple(attention_mask.shape) != (b, total):
            raise ValueError(
                f"attention_mask has shape {tuple(attention_mask.shape)} but input_ids needs "
                f"({b}, {total}) (batch, cached + new tokens): one 1/0 entry per token"
            )
        check_mask_values(attention_mask)


def check_batch_values(batch: dict[str, torch.Tensor], config) -> None:
    """The value checks our models make on their inputs, for a whole batch (the Trainer's, on the CPU)."""
    if "input_ids" in batch:
        check_ids("input_ids", batch["input_ids"], config.vocab_size, "the vocabulary")
    if "token_type_ids" in batch and getattr(config, "type_vocab_size", 0):  # 0: the model says it has none
        check_ids("token_type_ids", batch["token_type_ids"], config.type_vocab_size, "the segment ids")
    if "attention_mask" in batch:
        check_mask_values(batch["attention_mask"])


def check_mask_values(attention_mask: torch.Tensor) -> None:
    """A float ``attention_mask`` must hold only 1.0 and 0.0 (integer and bool masks cannot go wrong)."""
    if attention_mask.dtype.is_floating_point and not _skip_value_checks():
        if not torch.all((attention_mask == 0) | (attention_mask == 1)):
            raise ValueError("attention_mask must contain only 1 (real token) and 0 (padding)")




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
                if module.bias is not None:  # None with config.bias=False
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

    def hook_points(self) -> dict[str, HookPoint]:
        """Every named activation of the model, by full name (``repr`` leaves them out)."""
        return hook_points(self)

    def __repr__(self) -> str:
        return layers_repr(self)

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
def check_positions(position_ids: torch.Tensor, batch: int, t: int, max_positions: int | None) -> torch.Tensor:
    """``position_ids`` of shape ``(b, t)`` (or ``(1, t)``, shared by the batch), integers in
    ``[0, max_positions)``; returned expanded to ``(b, t)``."""
    if not isinstance(position_ids, torch.Tensor):
        raise TypeError(f"position_ids must be a torch.Tensor, got {type(position_ids).__name__}")
    if position_ids.dim() != 2 or position_ids.shape[1] != t or position_ids.shape[0] not in (1, batch):
        raise ValueError(
            f"position_ids has shape {tuple(position_ids.shape)}, expected ({batch}, {t}) like "
            f"input_ids (or (1, {t}) to share one row)"
        )
    if position_ids.dtype.is_floating_point or position_ids.dtype == torch.bool or position_ids.dtype.is_complex:
        raise TypeError(f"position_ids must hold integer positions (torch.long), got dtype {position_ids.dtype}")
    if position_ids.numel() and not _skip_value_checks():
        low, high = (int(v) for v in torch.aminmax(position_ids))
        if low < 0:
            raise ValueError(f"position_ids contains {low}; positions count from 0")
        if max_positions is not None and high >= max_positions:
            raise ValueError(
                f"position_ids contains {high}, but the model has positions 0..{max_positions - 1} "
                f"(max_positions={max_positions})"
            )
    return position_ids.expand(batch, t)
