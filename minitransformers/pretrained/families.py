"""Which tables to use for a model: BERT's or ModernBERT's, GPT-2's or Llama's.

A BERT class reads ``bert`` and ``modernbert`` checkpoints, a GPT class
``gpt2`` and ``llama`` ones: the same model classes, built with other parts
(``config.MODERNBERT_SWAPS``, ``config.LLAMA_SWAPS``). Loading picks the
family by the checkpoint's ``model_type``; saving picks the family whose
Hugging Face classes hold every part of the model's config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..config import BertConfig, GPTConfig
from .bert_names import bert_name_table
from .config_mapping import (
    bert_config_from_hf,
    bert_config_to_hf,
    bert_differences,
    gpt2_differences,
    gpt_config_from_hf,
    gpt_config_to_hf,
)
from .gpt2_names import gpt2_name_table
from .llama_config import llama_config_from_hf, llama_config_to_hf, llama_differences
from .llama_names import llama_name_table
from .modernbert_config import modernbert_config_from_hf, modernbert_config_to_hf, modernbert_differences
from .modernbert_names import modernbert_name_table
from .name_table import NameTable
from .report import CheckpointError


@dataclass(frozen=True)
class Family:
    """What loading and saving need to know about one architecture."""

    name: str
    model_type: str  # as config.json says it
    config_from_hf: Callable[[dict[str, Any]], Any]
    config_to_hf: Callable[..., dict[str, Any]]
    name_table: Callable[[nn.Module], NameTable]
    differences: Callable[[Any], dict[str, Any]]  # what of a config its HF classes cannot hold; {}: nothing


BERT = Family("BERT", "bert", bert_config_from_hf, bert_config_to_hf, bert_name_table, bert_differences)
MODERNBERT = Family("ModernBERT", "modernbert", modernbert_config_from_hf, modernbert_config_to_hf,
                    modernbert_name_table, modernbert_differences)
GPT2 = Family("GPT-2", "gpt2", gpt_config_from_hf, gpt_config_to_hf, gpt2_name_table, gpt2_differences)
LLAMA = Family("Llama", "llama", llama_config_from_hf, llama_config_to_hf, llama_name_table, llama_differences)
# The first family of each kind reads old files without a model_type and words the refusals.
KINDS = ((BertConfig, "a BERT model", (BERT, MODERNBERT)), (GPTConfig, "a GPT model", (GPT2, LLAMA)))


def _kind_of(model_class: type) -> tuple[str, tuple[Family, ...]]:
    config_class = getattr(model_class, "config_class", None)
    for base, kind, families in KINDS:
        if isinstance(config_class, type) and issubclass(config_class, base):
            return kind, families
    raise CheckpointError(
        f"{getattr(model_class, '__name__', model_class)} has no Hugging Face counterpart: "
        f"loading and saving in Hugging Face format works for the BERT and GPT model classes"
    )


def families_of(model_class: type) -> tuple[Family, ...]:
    """The families one of our model classes (or a subclass of one) can read and write."""
    return _kind_of(model_class)[1]


def family_for_checkpoint(model_class: type, hf_config: dict[str, Any]) -> Family:
    """The family that reads a checkpoint with ``hf_config`` into ``model_class``."""
    kind, families = _kind_of(model_class)
    found = hf_config.get("model_type")
    for family in families:
        if found == family.model_type:
            return family
    if found is None:
        return families[0]  # very old files: its config_from_hf judges by the class names
    types = " or ".join(repr(family.model_type) for family in families)
    raise CheckpointError(
        f"this checkpoint is a {found!r} model, but {kind} reads model_type={types} checkpoints only; use the "
        f"matching class (BERT classes read 'bert' and 'modernbert', GPT classes read 'gpt2' and 'llama') "
        f"or a checkpoint of the right architecture"
    )


def family_for_model(model: nn.Module) -> Family:
    """The family whose Hugging Face classes hold ``model``'s parts (or, if none does, the closest one,
    whose ``config_to_hf`` then says what differs)."""
    families = families_of(type(model))
    return min(families, key=lambda family: len(family.differences(model.config)))
