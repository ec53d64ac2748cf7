"""How a Hugging Face GPT-2 checkpoint names the tensors of our mini-GPT.

Read the tables left to right: our name, then theirs. Names are relative
to the model body (our ``GPTModel``, their ``GPT2Model``); a checkpoint
saved from ``GPT2LMHeadModel`` puts the body under ``transformer.``.

Things worth knowing about their names:

- ``wte`` / ``wpe`` are the word (token) and position embeddings;
  ``h.{i}`` is block ``i``; ``ln_1`` / ``ln_2`` are the norms *before*
  attention and the MLP (GPT-2 is pre-LN); ``ln_f`` is the final norm.
- ``c_attn`` computes queries, keys and values with one matrix, laid out
  as ``[q | k | v]`` along its output, each split into heads: the same
  layout as our fused ``qkv``.
- GPT-2 was written in TensorFlow with a ``Conv1D`` layer that multiplies
  ``x @ W`` with ``W`` of shape ``(in, out)``. ``nn.Linear`` computes
  ``x @ W.T`` with ``W`` of shape ``(out, in)``. So every matrix below
  marked *transposed* is flipped on the way in (``"i o -> o i"``) and out.
- ``lm_head.weight`` is the token-embedding matrix itself (tied):
  ``transformers`` does not save it, and when an old file does we check it
  is the same matrix.
- ``attn.bias`` (the causal mask) and ``attn.masked_bias`` are constant
  buffers in old checkpoints, not weights: we skip them.
"""

from __future__ import annotations

from torch import nn

from ..body import find_body
from .name_table import Entry, NameTable, layer_entries

EMBEDDING_NAMES = {
    "token_embeddings.weight": "wte.weight",
    "positional.weight": "wpe.weight",
}
FINAL_NORM_NAMES = {
    "final_norm.weight": "ln_f.weight",
    "final_norm.bias": "ln_f.bias",
}

# Inside block i: ours "blocks.{i}." + left, theirs "h.{i}." + right.
BLOCK_NAMES = {
    "attention_norm.weight": "ln_1.weight",
    "attention_norm.bias": "ln_1.bias",
    "attention.qkv.weight": "attn.c_attn.weight",
    "attention.qkv.bias": "attn.c_attn.bias",
    "attention.output.weight": "attn.c_proj.weight",
    "attention.output.bias": "attn.c_proj.bias",
    "feedforward_norm.weight": "ln_2.weight",
    "feedforward_norm.bias": "ln_2.bias",
    "feedforward.expand.weight": "mlp.c_fc.weight",
    "feedforward.expand.bias": "mlp.c_fc.bias",
    "feedforward.contract.weight": "mlp.c_proj.weight",
    "feedforward.contract.bias": "mlp.c_proj.bias",
}
# Conv1D weights, stored (in, out).
TRANSPOSED = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")

# Our tied key -> the key whose tensor it shares.
TIED = {"lm_head.weight": "gpt.token_embeddings.weight"}
# Copies some checkpoints store of a tied tensor -> the name of the original.
ALIASES = {"lm_head.weight": "transformer.wte.weight"}
IGNORED = (r"(^|\.)h\.\d+\.attn\.bias$", r"(^|\.)h\.\d+\.attn\.masked_bias$")


def gpt2_name_table(model: nn.Module) -> NameTable:
    """The table for a ``GPTModel`` or a ``GPTLMHeadModel`` (judged by its parts)."""
    body, ours = find_body(model)
    entries = [Entry(ours + m, t, in_body=True) for m, t in EMBEDDING_NAMES.items()]
    entries += layer_entries(body.config.n_layers, ours + "blocks.{i}.", "h.{i}.", BLOCK_NAMES, TRANSPOSED)
    entries += [Entry(ours + m, t, in_body=True) for m, t in FINAL_NORM_NAMES.items()]
    has_head = hasattr(model, "lm_head")
    return NameTable(
        entries=entries,
        hf_body_prefix="transformer.",
        prefixed=body is not model,
        architecture="GPT2LMHeadModel" if has_head else "GPT2Model",
        tied=dict(TIED) if has_head else {},
        aliases=dict(ALIASES) if has_head else {},
        ignored=IGNORED,
    )
