"""Seeds: the same seed gives the same weights, the same data order and the same dropout.

Two kinds are needed. :func:`seed_everything` fixes the global generators that
building a model and dropout draw from. :func:`seeded_generator` gives a
private generator for one job (shuffling one epoch, say), so that nothing else
that draws random numbers can shift its stream.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed torch, numpy and Python's ``random`` (call it before building the model)."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def seeded_generator(*parts: int) -> torch.Generator:
    """A generator whose seed is a hash of ``parts``: nearby seeds give unrelated streams."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
