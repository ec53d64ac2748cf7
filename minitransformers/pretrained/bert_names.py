"""How a Hugging Face BERT checkpoint names the tensors of our mini-BERT.

Read the tables left to right: our name, then theirs. Names are relative
to the model body (our ``BertModel``, their ``BertModel``); a checkpoint
saved from a task model (``BertForPreTraining``, ``BertForMaskedLM``,
``BertForSequenceClassification``) puts the body under ``bert.`` and its
heads at the top level, which is also where our task models keep them.

Things worth knowing about their names:

- Each encoder layer splits in three: ``attention`` (with ``self`` holding
  query/key/value and ``output`` holding the projection and the post-LN
  norm), ``intermediate`` (the expanding half of the feed-forward) and
  ``output`` (the contracting half and the second norm).
- ``token_type_embeddings`` are our ``segment_embeddings`` (sentence A/B).
- The pre-training heads live under ``cls``: ``cls.predictions`` is the
  masked-LM head (``transform`` = dense + activation + LayerNorm, then a
  decoder tied to the word embeddings with its own bias,
  ``cls.predictions.bias``); ``cls.seq_relationship`` is next-sentence
  prediction.
- Checkpoints converted from the original TensorFlow code call LayerNorm's
  scale and shift ``gamma`` and ``beta``; we read them as ``weight``/``bias``.
- ``embeddings.position_ids`` and ``embeddings.token_type_ids`` are constant
  buffers (``0, 1, 2, ...`` and zeros), not weights: we skip them.
"""

from __future__ import annotations

from torch import nn

from ..body import find_body
from .name_table import Entry, NameTable, layer_entries

EMBEDDING_NAMES = {
    "embeddings.token_embeddings.weight": "embeddings.word_embeddings.weight",
    "embeddings.positional.weight": "embeddings.position_embeddings.weight",
    "embeddings.segment_embeddings.weight": "embeddings.token_type_embeddings.weight",
    "embeddings.norm.weight": "embeddings.LayerNorm.weight",
    "embeddings.norm.bias": "embeddings.LayerNorm.bias",
}

# Inside block i: ours "blocks.{i}." + left, theirs "encoder.layer.{i}." + right.
BLOCK_NAMES = {
    "attention.query.weight": "attention.self.query.weight",
    "attention.query.bias": "attention.self.query.bias",
    "attention.key.weight": "attention.self.key.weight",
    "attention.key.bias": "attention.self.key.bias",
    "attention.value.weight": "attention.self.value.weight",
    "attention.value.bias": "attention.self.value.bias",
    "attention.output.weight": "attention.output.dense.weight",
    "attention.output.bias": "attention.output.dense.bias",
    "attention_norm.weight": "attention.output.LayerNorm.weight",
    "attention_norm.bias": "attention.output.LayerNorm.bias",
    "feedforward.expand.weight": "intermediate.dense.weight",
    "feedforward.expand.bias": "intermediate.dense.bias",
    "feedforward.contract.weight": "output.dense.weight",
    "feedforward.contract.bias": "output.dense.bias",
    "feedforward_norm.weight": "output.LayerNorm.weight",
    "feedforward_norm.bias": "output.LayerNorm.bias",
}

POOLER_NAMES = {
    "pooler.dense.weight": "pooler.dense.weight",
    "pooler.dense.bias": "pooler.dense.bias",
}

# Task heads: top-level names on both sides.
MLM_HEAD_NAMES = {
    "mlm_head.dense.weight": "cls.predictions.transform.dense.weight",
    "mlm_head.dense.bias": "cls.predictions.transform.dense.bias",
    "mlm_head.norm.weight": "cls.predictions.transform.LayerNorm.weight",
    "mlm_head.norm.bias": "cls.predictions.transform.LayerNorm.bias",
    "mlm_head.decoder.bias": "cls.predictions.bias",
    # mlm_head.decoder.weight is the word-embedding matrix itself (tied): see TIED.
}
NSP_HEAD_NAMES = {
    "nsp_head.weight": "cls.seq_relationship.weight",
    "nsp_head.bias": "cls.seq_relationship.bias",
}
CLASSIFIER_NAMES = {
    "classifier.weight": "classifier.weight",
    "classifier.bias": "classifier.bias",
}

# Our tied key -> the key whose tensor it shares.
TIED = {"mlm_head.decoder.weight": "bert.embeddings.token_embeddings.weight"}
# Copies some checkpoints store of a tied tensor -> the name of the original.
ALIASES = {
    "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
    "cls.predictions.decoder.bias": "cls.predictions.bias",
}
IGNORED = (r"(^|\.)embeddings\.position_ids$", r"(^|\.)embeddings\.token_type_ids$")
RENAMES = ((".gamma", ".weight"), (".beta", ".bias"))


def bert_name_table(model: nn.Module) -> NameTable:
    """The table for a ``BertModel`` or one of the BERT task models (judged by its parts)."""
    body, ours = find_body(model)
    entries = [Entry(ours + mine, theirs, in_body=True) for mine, theirs in EMBEDDING_NAMES.items()]
    entries += layer_entries(body.config.n_layers, ours + "blocks.{i}.", "encoder.layer.{i}.", BLOCK_NAMES)
    if body.pooler is not None:
        entries += [Entry(ours + m, t, in_body=True, head=True) for m, t in POOLER_NAMES.items()]
    for part, names in (("mlm_head", MLM_HEAD_NAMES), ("nsp_head", NSP_HEAD_NAMES),
                        ("classifier", CLASSIFIER_NAMES)):
        if hasattr(model, part):
            entries += [Entry(m, t, in_body=False, head=True) for m, t in names.items()]
    has_mlm = hasattr(model, "mlm_head")
    return NameTable(
        entries=entries,
        hf_body_prefix="bert.",
        prefixed=body is not model,
        architecture=hf_architecture(model),
        tied=dict(TIED) if has_mlm else {},
        aliases=dict(ALIASES) if has_mlm else {},
        ignored=IGNORED,
        renames=RENAMES,
        optional_body=("pooler.",),
    )


def hf_architecture(model: nn.Module) -> str:
    """The transformers class with the same parts as ``model`` (our class names match theirs)."""
    if hasattr(model, "classifier"):
        return "BertForSequenceClassification"
    if hasattr(model, "nsp_head"):
        return "BertForPreTraining"
    if hasattr(model, "mlm_head"):
        return "BertForMaskedLM"
    return "BertModel"
