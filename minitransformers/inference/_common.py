"""Helpers shared by the inference functions: run a model in eval mode, find its encoder body."""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def evaluating(model: nn.Module):
    """Dropout off and no gradients inside the block; the model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def check_text(text, what: str = "text") -> None:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, got {type(text).__name__}")
