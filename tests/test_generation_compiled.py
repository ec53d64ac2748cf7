"""``generate(..., compile=True)``: the one-token step captured by torch.compile on a static
cache gives the same token ids as eager decoding (on CPU here; tests/test_gpu.py does CUDA)."""

from __future__ import annotations

import shutil

import pytest
import torch

from minitransformers import GPTConfig, GPTLMHeadModel
from minitransformers.generation import generate
from minitransformers.generation.compiled import static_decoder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None,
                       reason="torch.compile on CPU needs a C compiler"),
]


def test_compiled_decoding_gives_the_eager_ids_and_reuses_the_compiled_step():
    torch.manual_seed(0)
    model = GPTLMHeadModel(GPTConfig.preset("tiny", initializer_range=0.2, max_positions=64)).eval()
    ids = torch.randint(0, 1000, (2, 7), generator=torch.Generator().manual_seed(1))
    mask = torch.tensor([[0, 0, 1, 1, 1, 1, 1], [1] * 7])  # left-padded batch
    eager = generate(model, ids, max_new_tokens=12, attention_mask=mask)
    compiled = generate(model, ids, max_new_tokens=12, attention_mask=mask, compile=True)
    assert torch.equal(compiled, eager)
    decoder = static_decoder(model, 2, 64, torch.device("cpu"))  # 64 = max_positions
    # Another prompt length, same batch size: the same compiled step.
    other = torch.randint(0, 1000, (2, 9), generator=torch.Generator().manual_seed(2))
    again = generate(model, other, max_new_tokens=10, compile=True)
    assert static_decoder(model, 2, 64, torch.device("cpu")) is decoder
    assert torch.equal(again, generate(model, other, max_new_tokens=10))
    # Past the context with a sliding window: eager refills between compiled steps.
    slid = generate(model, other, max_new_tokens=60, sliding_context=True, compile=True)
    assert torch.equal(slid, generate(model, other, max_new_tokens=60, sliding_context=True))


def test_compile_needs_the_cache():
    model = GPTLMHeadModel(GPTConfig.preset("tiny")).eval()
    with pytest.raises(ValueError, match="use_cache=True"):
        generate(model, torch.zeros(1, 3, dtype=torch.long), compile=True, use_cache=False)


def test_compile_needs_a_model_that_can_skip_the_other_positions():
    class NoLastPosition(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner, self.config = inner, inner.config

        def forward(self, input_ids, attention_mask=None, position_ids=None, cache=None):
            return self.inner(input_ids, attention_mask=attention_mask, position_ids=position_ids, cache=cache)

    model = NoLastPosition(GPTLMHeadModel(GPTConfig.preset("tiny")).eval())
    with pytest.raises(ValueError, match="only_last_position"):
        generate(model, torch.zeros(1, 3, dtype=torch.long), compile=True)
    assert generate(model, torch.zeros(1, 3, dtype=torch.long), max_new_tokens=2).shape == (1, 5)
