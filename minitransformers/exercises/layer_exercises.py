"""Exercises on the layers around attention: splitting into heads, an encoder block, the KV cache step."""

from __future__ import annotations

from typing import Any

import torch
from einops import rearrange

from ..attention import MultiHeadAttention, attend
from ..blocks import EncoderBlock
from ..config import BertConfig
from ..kv_cache import KVCache
from .exercise import SIZES, Exercise, Mistake, mask_for, randn

# --- 4. multi-head split and merge (the library's own reshapes, run with identity weights) -------

def _split_with_library(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    attention = MultiHeadAttention(x.shape[-1], n_heads, bias=False)
    torch.nn.init.eye_(attention.query.weight)  # so the query projection is x itself
    return attention.project_qkv(x)[0]


def _merge_with_library(heads: torch.Tensor) -> torch.Tensor:
    b, h, t, d = heads.shape
    attention = MultiHeadAttention(h * d, h, bias=False)
    torch.nn.init.eye_(attention.output.weight)
    # Swap the heads' outputs for ours at the hook, so forward's merge step runs on them.
    attention.hook_head_outputs.register_forward_hook(lambda module, args, output: heads)
    return attention(torch.zeros(b, t, h * d))[0]


def _split_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, h, t, _, d = SIZES[trial % len(SIZES)]
    return {"x": randn(g, b, t, h * d), "n_heads": h}


SPLIT_HEADS = Exercise(
    name="split_heads",
    statement="""Split the model width into heads.

    def split_heads(x, n_heads):
        x (b t c) with c = n_heads * d  ->  (b h t d)
        head i gets the i-th block of d numbers: x[..., i*d:(i+1)*d]
    """,
    make_inputs=_split_inputs,
    reference=_split_with_library,
    output_names=("heads",),
    mistakes=(
        Mistake("wrong_transpose", lambda x, n_heads: x.reshape(x.shape[0], n_heads, x.shape[1], -1),
                "You reshaped (b t c) straight into (b h t d). A reshape does not move data: view it "
                "as (b t h d) first, then transpose t and h (or use einops.rearrange)."),
        Mistake("heads_interleaved",
                lambda x, n_heads: rearrange(x, "b t (d h) -> b h t d", h=n_heads),
                "Your heads are interleaved: head i must get the contiguous block x[..., i*d:(i+1)*d], "
                "i.e. the pattern (h d), not (d h)."),
    ),
)

MERGE_HEADS = Exercise(
    name="merge_heads",
    statement="""Merge heads back into the model width (the inverse of split_heads).

    def merge_heads(x):
        x (b h t d)  ->  (b t c) with c = h * d, head i in columns i*d:(i+1)*d
    """,
    make_inputs=lambda g, trial: {"x": _split_with_library(**_split_inputs(g, trial))},
    reference=_merge_with_library,
    output_names=("merged",),
    mistakes=(
        Mistake("wrong_transpose", lambda x: x.reshape(x.shape[0], x.shape[2], -1),
                "You reshaped (b h t d) straight into (b t c) without moving h next to d: transpose "
                "h and t first (x.transpose(1, 2)), then reshape."),
        Mistake("heads_interleaved", lambda x: rearrange(x, "b h t d -> b t (d h)"),
                "Your heads are interleaved: head i must fill the contiguous columns i*d:(i+1)*d, the "
                "pattern (h d), not (d h)."),
    ),
)


# --- 5. a full encoder block ---------------------------------------------------------------------

class _AttentionOnly(torch.nn.Module):
    """What the student calls, ``attention(x, mask) -> (b t c)``: the library's attention, fewer options."""

    def __init__(self, attention: MultiHeadAttention) -> None:
        super().__init__()
        self.inner = attention

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.inner(x, mask)[0]


def _block_config(x: torch.Tensor, n_heads: int) -> BertConfig:
    c = x.shape[-1]
    return BertConfig(hidden_size=c, n_heads=n_heads, intermediate_size=3 * c, hidden_dropout=0.0,
                      attention_dropout=0.0)


def _encoder_block_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, h, t, _, d = SIZES[trial % len(SIZES)]
    x = randn(g, b, t, h * d)
    block = EncoderBlock(_block_config(x, h)).eval()
    with torch.no_grad():
        for parameter in block.parameters():  # random norm weights too, so a misplaced norm shows
            parameter.copy_(randn(g, *parameter.shape) * 0.5 + (1.0 if parameter.dim() == 1 else 0.0))
    return {
        "x": x,
        "mask": mask_for(g, 1, b, t, t),
        "attention": _AttentionOnly(block.attention),
        "attention_norm": block.attention_norm,
        "feedforward": block.feedforward,
        "feedforward_norm": block.feedforward_norm,
    }


def _library_encoder_block(x, mask, attention, attention_norm, feedforward, feedforward_norm):
    """The library's ``EncoderBlock.forward``, run with the very sub-layers the student was given."""
    block = EncoderBlock(_block_config(x, attention.inner.n_heads)).eval()
    block.attention, block.attention_norm = attention.inner, attention_norm
    block.feedforward, block.feedforward_norm = feedforward, feedforward_norm
    return block(x, mask)[0]


def _pre_ln_block(x, mask, attention, attention_norm, feedforward, feedforward_norm):
    x = x + attention(attention_norm(x), mask)
    return x + feedforward(feedforward_norm(x))


def _block_without_residuals(x, mask, attention, attention_norm, feedforward, feedforward_norm):
    x = attention_norm(attention(x, mask))
    return feedforward_norm(feedforward(x))


def _block_norm_inside_residual(x, mask, attention, attention_norm, feedforward, feedforward_norm):
    x = x + attention_norm(attention(x, mask))
    return x + feedforward_norm(feedforward(x))


ENCODER_BLOCK = Exercise(
    name="encoder_block",
    statement="""The forward pass of a BERT encoder block (post-LN), from its four sub-layers.

    def encoder_block(x, mask, attention, attention_norm, feedforward, feedforward_norm):
        x (b t c); mask bool (b 1 1 t), True = real token
        attention(x, mask) -> (b t c); the norms and feedforward map (b t c) -> (b t c)
        returns (b t c): add attention to x (residual), normalise; then the same with feedforward
    """,
    make_inputs=_encoder_block_inputs,
    reference=_library_encoder_block,
    output_names=("output",),
    mistakes=(
        Mistake("pre_ln", _pre_ln_block,
                "You wrote a pre-LN (GPT-2) block: norm first, then the sub-layer, then the residual. "
                "BERT is post-LN: add the residual first, then normalise the sum."),
        Mistake("missing_residual", _block_without_residuals,
                "The residual connections are missing: add the sub-layer's output to its input x "
                "before normalising."),
        Mistake("norm_inside_residual", _block_norm_inside_residual,
                "You normalised the sub-layer's output before adding it to x; BERT normalises the sum "
                "x + sublayer(x)."),
    ),
)


# --- 6. the KV cache step ------------------------------------------------------------------------

def _cache_step_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, h, _, s, d = SIZES[trial % len(SIZES)]
    return {
        "q": randn(g, b, h, 1, d), "k": randn(g, b, h, 1, d), "v": randn(g, b, h, 1, d),
        "cached_keys": randn(g, b, h, s, d), "cached_values": randn(g, b, h, s, d),
    }


def _library_cache_step(q, k, v, cached_keys, cached_values):
    cache = KVCache()
    positions = torch.arange(cached_keys.shape[2]).expand(cached_keys.shape[0], -1)
    cache.append(cached_keys, cached_values, positions)
    keys, values, _ = cache.append(k, v, positions[:, -1:] + 1)
    # The new token is the last one, so it may see every key: no mask needed.
    return attend(q, keys, values)[0], keys, values


def _cache_step_attend_before_append(q, k, v, cached_keys, cached_values):
    output = attend(q, cached_keys, cached_values)[0]
    return output, torch.cat([cached_keys, k], dim=2), torch.cat([cached_values, v], dim=2)


def _cache_step_new_first(q, k, v, cached_keys, cached_values):
    keys, values = torch.cat([k, cached_keys], dim=2), torch.cat([v, cached_values], dim=2)
    return attend(q, keys, values)[0], keys, values


KV_CACHE_STEP = Exercise(
    name="kv_cache_step",
    statement="""One generation step with a KV cache: store the new token's key and value, then attend.

    def kv_cache_step(q, k, v, cached_keys, cached_values):
        q, k, v: the new token's query, key, value (b h 1 d)
        cached_keys, cached_values: the earlier tokens' (b h s d)
        returns (output (b h 1 d), keys (b h s+1 d), values (b h s+1 d)):
        the cache with the new token appended at the end, and the new token's attention
        output over all s + 1 keys (scaled by 1/sqrt(d); no mask: it may see every earlier token).
    """,
    make_inputs=_cache_step_inputs,
    reference=_library_cache_step,
    output_names=("output", "keys", "values"),
    mistakes=(
        Mistake("attend_before_append", _cache_step_attend_before_append,
                "You attended over the cached keys only: append the new token's key and value first, "
                "so the token can also attend to itself."),
        Mistake("new_token_first", _cache_step_new_first,
                "You put the new token *before* the cached ones; the cache is in sequence order, so "
                "append at the end: torch.cat([cached_keys, k], dim=2)."),
    ),
)
