"""Shared test settings: deterministic seeds, one thread, a headless matplotlib backend."""

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.set_num_threads(1)  # tiny test models run fastest on one thread


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
