"""A user-defined norm, attention and block plug into mini-GPT and mini-BERT without touching the library.

The components below are written the way a student would write them: plain
modules registered with a decorator (or passed as a class), using the
library's attention functions and hook points.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pytest
import torch
from einops import einsum, rearrange
from torch import nn

from minitransformers import (
    ATTENTIONS,
    BLOCKS,
    NORMS,
    BertConfig,
    BertForSequenceClassification,
    GPTConfig,
    GPTLMHeadModel,
    HookPoint,
    KVCache,
    new_cache,
)
from minitransformers.attention import mask_scores, masked_softmax
from minitransformers.blocks import build_attention, build_feedforward
from minitransformers.masks import causal_mask, combine_masks
from minitransformers.registry import build_norm


@NORMS.register("test_scale_norm")
class ScaleNorm(nn.Module):
    """ScaleNorm: one learned length ``g`` for every token vector: ``g * x / |x|``."""

    def __init__(self, hidden_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.g = nn.Parameter(torch.tensor(math.sqrt(hidden_size)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.g * x / x.norm(dim=-1, keepdim=True).clamp(min=self.eps)


@ATTENTIONS.register("test_temperature_attention")
class TemperatureAttention(nn.Module):
    """Multi-head attention with a learned temperature per head instead of the fixed 1/sqrt(d)."""

    def __init__(self, hidden_size: int, n_heads: int, attention_dropout: float = 0.0, causal: bool = False,
                 relative_positions: nn.Module | None = None, **unused) -> None:
        super().__init__()
        self.n_heads, self.causal, self.relative_positions = n_heads, causal, relative_positions
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.output = nn.Linear(hidden_size, hidden_size)
        self.log_temperature = nn.Parameter(torch.full((n_heads, 1, 1), 0.5 * math.log(hidden_size / n_heads)))
        self.dropout = nn.Dropout(attention_dropout)
        self.hook_weights = HookPoint()  # (b h t s): visible to run_with_cache and the plots

    def forward(self, x, mask=None, positions=None, cache: KVCache | None = None, output_attentions=False):
        q, k, v = rearrange(self.qkv(x), "b t (three h d) -> three b h t d", three=3, h=self.n_heads)
        if positions is None:
            positions = torch.arange(x.shape[1]).expand(x.shape[0], -1)
        if self.relative_positions is not None:
            q, k = self.relative_positions.rotate(q, k, positions)
        key_positions = positions
        if cache is not None:
            k, v, key_positions = cache.append(k, v, positions)
        scores = einsum(q, k, "b h t d, b h s d -> b h t s") / self.log_temperature.exp()
        bias = None if self.relative_positions is None else self.relative_positions.score_bias(positions, key_positions)
        if bias is not None:  # ALiBi
            scores = scores + bias
        if self.causal:
            mask = combine_masks(causal_mask(q.shape[2], k.shape[2]), mask)
        weights = self.hook_weights(masked_softmax(mask_scores(scores, mask), mask))
        mixed = einsum(self.dropout(weights), v, "b h t s, b h s d -> b h t d")
        return self.output(rearrange(mixed, "b h t d -> b t (h d)")), weights if output_attentions else None


@BLOCKS.register("test_parallel")
class ParallelBlock(nn.Module):
    """GPT-J's block: attention and feed-forward read the same normalised input, side by side."""

    def __init__(self, config) -> None:
        super().__init__()
        self.norm = build_norm(config)
        self.attention = build_attention(config)
        self.feedforward = build_feedforward(config)

    def forward(self, x, mask=None, positions=None, cache=None, output_attentions=False):
        normed = self.norm(x)
        attended, weights = self.attention(normed, mask, positions, cache, output_attentions)
        return x + attended + self.feedforward(normed), weights


def custom_gpt(**overrides) -> GPTLMHeadModel:
    torch.manual_seed(0)
    settings = {"vocab_size": 40, "hidden_size": 32, "n_heads": 4, "max_positions": 32, "hidden_dropout": 0.0,
                "attention_dropout": 0.0, "norm": "test_scale_norm", "attention": "test_temperature_attention"}
    return GPTLMHeadModel(GPTConfig.preset("tiny", **{**settings, **overrides})).eval()


@pytest.mark.parametrize("overrides", [
    {},  # chosen by registered name
    {"attention": TemperatureAttention, "norm": ScaleNorm, "block": "test_parallel", "positional": "rotary"},
])
def test_custom_parts_run_forward_backward_and_generation(overrides):
    model = custom_gpt(**overrides)
    assert isinstance(model.gpt.blocks[0].attention, TemperatureAttention)
    assert isinstance(model.gpt.final_norm, ScaleNorm)
    ids = torch.randint(0, 40, (2, 7))

    model.train()
    model(ids, labels=ids).loss.backward()
    no_grad = [name for name, p in model.named_parameters() if p.grad is None]
    assert not no_grad
    assert model.gpt.blocks[0].attention.log_temperature.grad.abs().sum() > 0
    model.eval()

    with torch.no_grad():
        full = model(ids).logits
        cache = new_cache(model.config.n_layers)
        steps = [model(ids[:, :3], cache=cache).logits] + [model(ids[:, i : i + 1], cache=cache).logits
                                                          for i in range(3, 7)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-4)
    with_cache = model.generate(ids, max_new_tokens=5)
    without = model.generate(ids, max_new_tokens=5, use_cache=False)
    assert with_cache.shape == (2, 12) and torch.equal(with_cache, without)


def test_custom_parts_train():
    model = custom_gpt().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    ids = torch.randint(0, 40, (2, 8), generator=torch.Generator().manual_seed(0))
    losses = []
    for _ in range(10):
        loss = model(ids, labels=ids).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_custom_attention_in_run_with_cache_and_plots():
    from minitransformers.plotting import plot_attention_grid

    model = custom_gpt()
    ids = torch.randint(0, 40, (1, 6))
    output, cache = model.run_with_cache(ids, output_attentions=True)
    name = "blocks.1.attention.hook_weights"
    assert name in cache.names()
    torch.testing.assert_close(cache[name], output.attentions[1])
    assert torch.all(cache[name].triu(diagonal=1) == 0)  # built with causal=True, the attention hid the future
    figure = plot_attention_grid(output.attentions)
    assert len([ax for ax in figure.axes if ax.images]) == 2 * 4  # layers x heads


def test_custom_parts_in_bert():
    torch.manual_seed(0)
    config = BertConfig.preset("tiny", vocab_size=40, norm="test_scale_norm", attention=TemperatureAttention)
    model = BertForSequenceClassification(config)
    ids, mask = torch.randint(1, 40, (3, 6)), torch.ones(3, 6, dtype=torch.long)
    mask[0, 4:] = 0
    out = model(ids, attention_mask=mask, labels=torch.tensor([0, 1, 1]), output_attentions=True)
    out.loss.backward()
    assert model.bert.blocks[0].attention.log_temperature.grad is not None
    assert torch.all(out.attentions[0][0, :, :, 4:] == 0)  # padded keys are hidden


def test_unknown_names_list_the_choices():
    import minitransformers.components  # noqa: F401

    with pytest.raises(ValueError, match=r"unknown norm 'rms_norm'; choose one of \[.*'layernorm'.*'rmsnorm'"):
        GPTLMHeadModel(GPTConfig.preset("tiny", norm="rms_norm"))
    with pytest.raises(ValueError, match=r"unknown attention 'gqa'.*'grouped_query'.*@ATTENTIONS.register"):
        GPTLMHeadModel(GPTConfig.preset("tiny", attention="gqa"))
    with pytest.raises(ValueError, match=r"unknown positional 'rope'; choose one of .*'rotary'"):
        GPTLMHeadModel(GPTConfig.preset("tiny", positional="rope"))


def test_incompatible_components_say_what_arguments_they_must_accept():
    def norm_without_eps(hidden_size):
        return nn.LayerNorm(hidden_size)

    with pytest.raises(TypeError, match=r"could not build norm .* with arguments \['eps', 'hidden_size'\]"):
        GPTLMHeadModel(GPTConfig.preset("tiny", norm=norm_without_eps))
