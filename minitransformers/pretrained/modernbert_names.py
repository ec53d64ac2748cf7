"""How a Hugging Face ModernBERT checkpoint names the tensors of our BERT built with ModernBERT's parts.

Read the tables left to right: our module, then theirs (each module's
``weight``, and its ``bias`` where the model has one). Names are relative
to the model body (our ``BertModel``, their ``ModernBertModel``); a
checkpoint saved from ``ModernBertForMaskedLM`` puts the body under
``model.`` and its head at the top level (``head``, ``decoder``).

Things worth knowing about their names:

- ``embeddings.tok_embeddings`` and ``embeddings.norm``: tokens only, no
  position or segment table, then a norm.
- ``layers.{i}.attn_norm`` and ``mlp_norm`` are the two pre-norms; layer 0
  has no ``attn_norm`` (the embedding norm has just run), and neither has
  our block 0. ``final_norm`` follows the last layer.
- ``attn.Wqkv`` is one matrix for queries, keys and values, ``[q | k | v]``
  along its rows; we keep three (``part`` 0, 1, 2 of 3). Its query and
  key rows store rotary pairs as halves, as Llama does: see
  ``llama_names.py`` for why reordering them changes no score.
- ``mlp.Wi`` is the two widenings of the gated MLP in one matrix: the first
  half goes through GELU (their ``input``, our ``gate``), the second is
  what it gates (their ``gate``, our ``expand``). ``mlp.Wo`` is our
  ``contract``.
- The masked-LM head is ``head`` (dense + activation + norm, like BERT's
  ``cls.predictions.transform``) and ``decoder``, tied to the token
  embeddings with a bias of its own (``decoder.bias``).
"""

from __future__ import annotations

from torch import nn

from ..body import find_body
from .llama_names import rotary_halves
from .name_table import Entry, NameTable, module_entries
from .report import CheckpointError

EMBEDDING_NAMES = {"embeddings.token_embeddings": "embeddings.tok_embeddings", "embeddings.norm": "embeddings.norm"}
FINAL_NORM_NAMES = {"final_norm": "final_norm"}


def block_names(head_size: int) -> dict[str, str | Entry]:
    """Inside block i: ours ``blocks.{i}.`` + left, theirs ``layers.{i}.`` + right."""
    rotary = rotary_halves(head_size)
    return {
        "attention_norm": "attn_norm",
        "attention.query": Entry("attention.query", "attn.Wqkv", in_body=True, part=(0, 3), layout=rotary),
        "attention.key": Entry("attention.key", "attn.Wqkv", in_body=True, part=(1, 3), layout=rotary),
        "attention.value": Entry("attention.value", "attn.Wqkv", in_body=True, part=(2, 3)),
        "attention.output": "attn.Wo",
        "feedforward_norm": "mlp_norm",
        "feedforward.gate": Entry("feedforward.gate", "mlp.Wi", in_body=True, part=(0, 2)),
        "feedforward.expand": Entry("feedforward.expand", "mlp.Wi", in_body=True, part=(1, 2)),
        "feedforward.contract": "mlp.Wo",
    }


# The masked-LM head: top-level names on both sides.
MLM_HEAD_NAMES = {"mlm_head.dense": "head.dense", "mlm_head.norm": "head.norm"}
TIED = {"mlm_head.decoder.weight": "bert.embeddings.token_embeddings.weight"}
ALIASES = {"decoder.weight": "model.embeddings.tok_embeddings.weight"}


def modernbert_name_table(model: nn.Module) -> NameTable:
    """The table for a ModernBERT-shaped ``BertModel`` or ``BertForMaskedLM``."""
    extra_heads = [part for part in ("nsp_head", "classifier") if hasattr(model, part)]
    if extra_heads:
        raise CheckpointError(
            f"{type(model).__name__} has a {extra_heads[0]}, which ModernBERT checkpoints do not have in this "
            f"form; ModernBERT loads into BertModel and BertForMaskedLM"
        )
    body, ours = find_body(model)
    keys = list(model.state_dict())
    blocks = block_names(body.config.head_size)
    entries = module_entries(keys, ours, "", EMBEDDING_NAMES)
    for i in range(body.config.n_layers):
        entries += module_entries(keys, f"{ours}blocks.{i}.", f"layers.{i}.", blocks)
    entries += module_entries(keys, ours, "", FINAL_NORM_NAMES)
    # ModernBERT has no pooler: a BertModel's is reported as a new head (strict=False keeps it random).
    entries += module_entries(keys, ours, "", {"pooler.dense": "pooler.dense"}, head=True)
    has_mlm = hasattr(model, "mlm_head")
    if has_mlm:
        entries += module_entries(keys, "", "", MLM_HEAD_NAMES, in_body=False, head=True)
        entries.append(Entry("mlm_head.decoder.bias", "decoder.bias", in_body=False, head=True))
    return NameTable(
        entries=entries,
        hf_body_prefix="model.",
        prefixed=body is not model,
        architecture="ModernBertForMaskedLM" if has_mlm else "ModernBertModel",
        tied=dict(TIED) if has_mlm else {},
        aliases=dict(ALIASES) if has_mlm else {},
    )
