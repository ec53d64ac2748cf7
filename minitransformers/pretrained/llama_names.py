"""How a Hugging Face Llama checkpoint names the tensors of our GPT built with Llama's parts.

Read the tables left to right: our module, then theirs (each module's
``weight``, and its ``bias`` where the model has one). Names are relative
to the model body (our ``GPTModel``, their ``LlamaModel``); a checkpoint
saved from ``LlamaForCausalLM`` puts the body under ``model.``.

Things worth knowing about their names:

- ``embed_tokens`` is the token embedding; there is no position table
  (rotary positions act inside attention). ``layers.{i}`` is block ``i``;
  ``input_layernorm`` and ``post_attention_layernorm`` are the two pre-norms
  (RMSNorm); ``norm`` is the final one.
- ``q_proj``, ``k_proj``, ``v_proj`` are three matrices; with grouped-query
  attention ``k_proj`` and ``v_proj`` have fewer rows (``g * d``).
- ``mlp.gate_proj`` goes through SiLU and gates ``mlp.up_proj`` (our
  ``expand``); ``mlp.down_proj`` is our ``contract``.
- **Rotary pairs.** The RoPE paper turns neighbouring numbers of a head
  as pairs, ``(0, 1), (2, 3), ...``, and so does ``components/rotary.py``.
  Hugging Face's Llama turns the first half against the second,
  ``(0, d/2), (1, d/2 + 1), ...`` (its ``rotate_half``). A score is a dot
  product of a query and a key, so it is the same whichever order the
  numbers of a head are in, as long as queries and keys agree: loading
  reorders the rows of ``q_proj`` and ``k_proj`` from halves to pairs
  (``ROTARY_HALVES``) and saving reorders them back. Values are untouched.
- ``lm_head`` is its own matrix unless ``tie_word_embeddings`` is true;
  then, as for GPT-2, it is the token-embedding matrix and not saved.
- Old checkpoints store ``rotary_emb.inv_freq``, a constant buffer: skipped.
"""

from __future__ import annotations

from torch import nn

from ..body import find_body
from .name_table import Entry, Layout, NameTable, module_entries


def rotary_halves(head_size: int) -> Layout:
    """Rows of heads whose rotary pairs are stored as halves (theirs) or side by side (ours)."""
    return Layout("(h two f) ...", "(h f two) ...", (("two", 2), ("f", head_size // 2)))


EMBEDDING_NAMES = {"token_embeddings": "embed_tokens"}
FINAL_NORM_NAMES = {"final_norm": "norm"}
# Inside block i: ours "blocks.{i}." + left, theirs "layers.{i}." + right.
BLOCK_NAMES = {
    "attention_norm": "input_layernorm",
    "attention.query": "self_attn.q_proj",  # rotary: halves -> pairs
    "attention.key": "self_attn.k_proj",  # rotary: halves -> pairs
    "attention.value": "self_attn.v_proj",
    "attention.output": "self_attn.o_proj",
    "feedforward_norm": "post_attention_layernorm",
    "feedforward.gate": "mlp.gate_proj",
    "feedforward.expand": "mlp.up_proj",
    "feedforward.contract": "mlp.down_proj",
}
ROTATED = ("attention.query", "attention.key")

TIED = {"lm_head.weight": "gpt.token_embeddings.weight"}
ALIASES = {"lm_head.weight": "model.embed_tokens.weight"}
IGNORED = (r"(^|\.)rotary_emb\.inv_freq$",)


def llama_name_table(model: nn.Module) -> NameTable:
    """The table for a Llama-shaped ``GPTModel`` or ``GPTLMHeadModel`` (judged by its parts)."""
    body, ours = find_body(model)
    keys = list(model.state_dict())
    blocks = {mine: Entry(mine, theirs, in_body=True, layout=rotary_halves(body.config.head_size))
              if mine in ROTATED else theirs for mine, theirs in BLOCK_NAMES.items()}
    entries = module_entries(keys, ours, "", EMBEDDING_NAMES)
    for i in range(body.config.n_layers):
        entries += module_entries(keys, f"{ours}blocks.{i}.", f"layers.{i}.", blocks)
    entries += module_entries(keys, ours, "", FINAL_NORM_NAMES)
    has_head = hasattr(model, "lm_head")
    tied = has_head and body.config.tied_head
    if has_head and not tied:
        entries.append(Entry("lm_head.weight", "lm_head.weight", in_body=False, head=True))
    return NameTable(
        entries=entries,
        hf_body_prefix="model.",
        prefixed=body is not model,
        architecture="LlamaForCausalLM" if has_head else "LlamaModel",
        tied=dict(TIED) if tied else {},
        aliases=dict(ALIASES) if tied else {},
        ignored=IGNORED,
    )
