"""interpret/ given bad input (issue 36, items 1-10): one clear line naming the argument, never a silent answer.

Small random models; the expected numbers come from plain indexing of the
models' own logits or from patterns built by hand, never from the code
under test.
"""

from __future__ import annotations

import pytest
import torch

from minitransformers import BertConfig, BertForMaskedLM, GPTConfig, GPTLMHeadModel
from minitransformers.interpret import patch_activations

V, T = 41, 6


def _randomised(model):
    torch.manual_seed(3)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.3)
            if parameter.dim() == 1:
                parameter.add_(1.0)
    return model.eval()


def _gpt(hidden_size: int = 24) -> GPTLMHeadModel:
    return _randomised(GPTLMHeadModel(GPTConfig(vocab_size=V, hidden_size=hidden_size, n_layers=2, n_heads=3,
                                                intermediate_size=32, max_positions=16)))


def _bert() -> BertForMaskedLM:
    return _randomised(BertForMaskedLM(BertConfig(vocab_size=V, hidden_size=24, n_layers=2, n_heads=3,
                                                  intermediate_size=32, max_positions=16)))


def _pair(b: int = 1, t: int = T):
    clean = torch.randint(5, V, (b, t), generator=torch.Generator().manual_seed(4))
    corrupted = clean.clone()
    corrupted[:, 1] = (clean[:, 1] + 7) % V
    return clean, corrupted


def _metric(logits):
    return logits[:, -1, 5].mean() - logits[:, -1, 9].mean()


def _one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message, message
    return message


# ----- item 1: batch_size ------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                               (True, TypeError)])
def test_a_batch_size_that_is_not_a_positive_int_is_named(batch_size, error):
    with pytest.raises(error) as raised:
        patch_activations(_gpt(), *_pair(), _metric, batch_size=batch_size)
    assert "batch_size" in _one_line(raised) and "positive" in str(raised.value)
