"""Shared test settings: deterministic seeds and a small thread count (CI has 2 cores)."""

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
