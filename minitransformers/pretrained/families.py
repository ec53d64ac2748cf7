"""Which tables to use for a model class: BERT's or GPT-2's (judged by the class's config)."""

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
    gpt_config_from_hf,
    gpt_config_to_hf,
)
from .gpt2_names import gpt2_name_table
from .name_table import NameTable
from .report import CheckpointError


@dataclass(frozen=True)
class Family:
    """What loading and saving need to know about one architecture."""

    name: str
    config_from_hf: Callable[[dict[str, Any]], Any]
    config_to_hf: Callable[..., dict[str, Any]]
    name_table: Callable[[nn.Module], NameTable]


BERT = Family("BERT", bert_config_from_hf, bert_config_to_hf, bert_name_table)
GPT2 = Family("GPT-2", gpt_config_from_hf, gpt_config_to_hf, gpt2_name_table)


def family_of(model_class: type) -> Family:
    """The family of one of our model classes (or a subclass of one)."""
    config_class = getattr(model_class, "config_class", None)
    if isinstance(config_class, type) and issubclass(config_class, BertConfig):
        return BERT
    if isinstance(config_class, type) and issubclass(config_class, GPTConfig):
        return GPT2
    raise CheckpointError(
        f"{getattr(model_class, '__name__', model_class)} has no Hugging Face counterpart: "
        f"loading and saving in Hugging Face format works for the BERT and GPT model classes"
    )
