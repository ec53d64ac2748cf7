"""What the interpretability tools need to know about a model: its blocks, heads and output path.

The same calls work on mini-GPT and mini-BERT because both keep their
blocks in ``body.blocks`` and name their activations alike (see
``inspection/names.py``). They differ in the *output path*, the layers
between the last residual stream and the logits:

- ``GPTLMHeadModel``: the final LayerNorm, then the head tied to the token
  embeddings (``lm_head(final_norm(x))``);
- ``BertForMaskedLM`` / ``BertForPreTraining``: the MLM transform (a dense
  layer, GELU, a LayerNorm), then the decoder tied to the token embeddings
  (``mlm_head(x)``; a BERT of pre-LN blocks has a final norm first, as GPT).

``read_out`` is that path. Applied to the stream after the last block it
gives the model's own logits; applied to an earlier layer's stream it is the
logit lens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from ..body import find_body

__all__ = ["LM_MODELS", "ModelParts", "evaluating", "model_parts"]

LM_MODELS = "GPTLMHeadModel, BertForMaskedLM or BertForPreTraining"


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Every module in eval mode (dropout off) and no gradients inside the block; each module's own mode after.

    Only the modules that were training are switched, and only they are
    switched back: a frozen block of a training model stays frozen, and a
    model already in eval mode is not touched (``patch_one`` runs once per
    patch, and walking every module twice cost a third of its time).
    """
    training = _training_modules(model)
    for module in training:
        module.training = False  # this module only; module.eval() would also switch its children
    try:
        with torch.no_grad():
            yield model
    finally:
        for module in training:
            module.training = True


@dataclass(frozen=True)
class ModelParts:
    """A model seen by the interpretability tools.

    ``family`` is ``"gpt"`` (pre-LN decoder) or ``"bert"`` (post-LN encoder);
    ``read_out`` maps a residual stream ``(... c)`` to logits ``(... v)``
    through the model's own output path, or is ``None`` when the model has
    no language-model head.
    """

    model: nn.Module
    body: nn.Module
    family: str
    n_layers: int
    n_heads: int
    read_out: Callable[[torch.Tensor], torch.Tensor] | None

    def check_layer(self, layer: int) -> int:
        """``layer`` as a non-negative index, or one clear line when the model has no such layer."""
        return self._check_index(layer, "layer", self.n_layers, f"{type(self.model).__name__} has")

    def check_head(self, head: int) -> int:
        """``head`` as a non-negative index, or one clear line when the model has no such head."""
        return self._check_index(head, "head", self.n_heads, f"each layer of {type(self.model).__name__} has")

    @staticmethod
    def _check_index(index: int, what: str, count: int, owner: str) -> int:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"{what} must be an int, got {type(index).__name__} {index!r}")
        if not -count <= index < count:
            raise IndexError(f"{what} {index} does not exist: {owner} {count} {what}s, numbered 0 to {count - 1}")
        return index % count

    def require_read_out(self, tool: str) -> Callable[[torch.Tensor], torch.Tensor]:
        """The output path, or one clear line saying which model class has one."""
        if self.read_out is None:
            name = type(self.model).__name__
            with_head = "GPTLMHeadModel" if self.family == "gpt" else "BertForMaskedLM"
            raise TypeError(f"{tool} reads the residual stream through the model's language-model head, "
                            f"and {name} has none; load the checkpoint with {with_head}.from_pretrained(path) "
                            f"(or use {LM_MODELS})")
        return self.read_out


def _training_modules(model: nn.Module) -> list[nn.Module]:
    """The modules of ``model`` (itself included) in training mode.

    A plain walk of the module tree: ``model.modules()`` also builds every
    module's dotted name, which made it three times slower.
    """
    found, stack = [], [model]
    while stack:
        module = stack.pop()
        if module.training:
            found.append(module)
        stack.extend(child for child in module._modules.values() if child is not None)
    return found


def model_parts(model: nn.Module) -> ModelParts:
    """The blocks, head count, family and output path of a mini-GPT or mini-BERT model."""
    body, _ = find_body(model)
    blocks = getattr(body, "blocks", None)
    if not isinstance(blocks, nn.ModuleList) or len(blocks) == 0:
        raise TypeError(f"expected a minitransformers model ({LM_MODELS}), got {type(model).__name__}, "
                        f"which has no transformer blocks")
    # Causality tells the families apart: a BERT body may hold a final norm too (pre-LN blocks).
    family = "gpt" if getattr(getattr(body, "config", None), "causal", False) else "bert"
    n_heads = getattr(blocks[0].attention, "n_heads", None) or body.config.n_heads
    final_norm = getattr(body, "final_norm", None) or nn.Identity()  # BERT's post-LN blocks end normalised
    read_out = None
    head = getattr(model, "lm_head" if family == "gpt" else "mlm_head", None)
    if isinstance(head, nn.Module):
        def read_out(x: torch.Tensor) -> torch.Tensor:
            return head(final_norm(x))
    return ModelParts(model, body, family, len(blocks), n_heads, read_out)
