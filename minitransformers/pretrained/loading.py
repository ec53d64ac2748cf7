"""``load_pretrained``: build one of our models from a Hugging Face-format checkpoint directory.

The steps, each of which can stop with a clear error before anything is
returned:

1. find the directory (``hub.py``), read ``config.json`` and translate it
   into our config (``config_mapping.py``);
2. read the weights safely (``reading.py``);
3. build a *fresh* model and work out, with the name table
   (``bert_names.py``, ``gpt2_names.py``, ...), which checkpoint tensor goes
   where, collecting every problem (missing, unexpected, wrong shape);
4. only if that succeeds, copy the tensors in and return the model.

A model is never returned half-loaded: on any error the fresh model is
simply dropped.

Strictness. ``strict=True`` (the default) refuses any checkpoint that does
not fill the model exactly, listing all the problems in one error. Two
cases are not problems: a checkpoint's task head that our class does not
have (loading a ``BertForPreTraining`` file into ``BertModel``) is dropped,
and buffers that are not weights are ignored. A checkpoint *without* our
class's head (a bare ``BertModel`` file loaded into
``BertForSequenceClassification``) is refused under ``strict=True``; pass
``strict=False`` to load the body and start the head from random weights,
as for fine-tuning. Either way ``model.loading_report`` says what happened.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .families import families_of, family_for_checkpoint
from .hub import resolve_checkpoint_dir
from .preflight import check_dtypes, check_sizes
from .name_table import NameTable, expected_hf_shape, to_ours
from .reading import read_config, read_state_dict
from .report import CheckpointError, CheckpointMismatchError, LoadingReport, Mismatch


def load_pretrained(
    model_class: type,
    path: str | Path,
    *,
    strict: bool = True,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
    **config_overrides: Any,
):
    """A ``model_class`` model filled from the checkpoint at ``path``, in eval mode.

    ``path`` is a directory with ``config.json`` and ``model.safetensors`` or
    ``pytorch_model.bin`` (or a hub name such as ``"gpt2"``, see ``hub.py``).
    ``config_overrides`` change config fields that do not alter the weights'
    shapes (``attn_impl="sdpa"``, ``hidden_dropout=0.0``) or, with
    ``strict=False``, the head (``num_labels=3``). ``dtype`` and ``device``
    move the model at the end. The report of what was loaded is
    ``model.loading_report``.
    """
    families_of(model_class)  # a class with no Hugging Face counterpart is refused before any file is read
    directory = resolve_checkpoint_dir(path)
    hf_config = read_config(directory)
    family = family_for_checkpoint(model_class, hf_config)  # by model_type: BERT or ModernBERT, GPT-2 or Llama
    config = family.config_from_hf(hf_config)
    checkpoint = read_state_dict(directory)
    check_sizes(family.name, config, checkpoint, str(directory))  # before the model allocates anything
    if config_overrides:
        config = _override(config, config_overrides)
    model = model_class(config)
    table = family.name_table(model)
    if table.tied and hf_config.get("tie_word_embeddings", True) is False:
        raise CheckpointError(
            f"config.json sets tie_word_embeddings=false (the output layer has its own matrix), but "
            f"{model_class.__name__} ties its output layer to the token embeddings; load the body "
            f"only ({family.name} base model class) instead"
        )
    report = fill_model(model, table, checkpoint, strict=strict, source=str(directory))
    model.eval()  # as transformers does: dropout off until you call model.train()
    if dtype is not None or device is not None:
        model.to(device=device, dtype=getattr(torch, dtype) if isinstance(dtype, str) else dtype)
    model.loading_report = report
    return model


def _override(config, overrides: dict[str, Any]):
    known = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(
            f"from_pretrained got unknown arguments {unknown}; besides strict, dtype and device it "
            f"takes {type(config).__name__} fields: {sorted(known)}"
        )
    return config.replace(**overrides)


# The top-level names of the task heads transformers saves beside the body (BERT, GPT-2, Llama and
# ModernBERT classes: ModernBERT's masked-LM head is "head." and "decoder.").
KNOWN_HEADS = ("cls.", "classifier.", "qa_outputs.", "lm_head.", "score.", "multiple_choice_head.", "head.",
               "decoder.")


def _is_known_head(table: NameTable, key: str, prefixed: bool) -> bool:
    """A tensor of a task head (or pooler) this model does not have: safe to drop.

    Anything else the model has no place for is *unexpected*, which strict
    loading refuses: a stray key, or a second copy of a body tensor without
    the prefix (which one would the user have meant?).
    """
    if not table.is_droppable(key, prefixed):
        return False
    return not prefixed or key.startswith(table.hf_body_prefix) or key.startswith(KNOWN_HEADS)


def fill_model(
    model: nn.Module, table: NameTable, checkpoint: dict[str, torch.Tensor], strict: bool, source: str
) -> LoadingReport:
    """Copy the checkpoint's tensors into ``model`` following ``table``; return what was done.

    Under ``strict`` any problem raises ``CheckpointMismatchError`` *before*
    a single tensor is copied.
    """
    report = LoadingReport(source=source, model=type(model).__name__)
    checkpoint = {table.modernise(key): tensor for key, tensor in checkpoint.items()}
    report.ignored = sorted(key for key in checkpoint if table.is_ignored(key))
    checkpoint = {key: tensor for key, tensor in checkpoint.items() if not table.is_ignored(key)}
    # A checkpoint saved from a task model keeps its body under a prefix ("bert.", "transformer.").
    prefixed = any(key.startswith(table.hf_body_prefix) for key in checkpoint)
    ours = model.state_dict(keep_vars=True)
    copy_of = {source_key: alias for alias, source_key in table.aliases.items()}

    used: set[str] = set()
    updates: dict[str, torch.Tensor] = {}
    check_dtypes({key: checkpoint[key] for key in (table.hf_key(e, prefixed) for e in table.entries)
                  if key in checkpoint}, source)
    body_loaded = 0
    for entry in table.entries:
        key = table.hf_key(entry, prefixed)
        if key not in checkpoint and copy_of.get(key) in checkpoint:
            key = copy_of[key]  # an old file with only the tied copy
        if key not in checkpoint:
            (report.newly_initialised if entry.head else report.missing).append(entry.ours)
            continue
        used.add(key)
        tensor, expected = checkpoint[key], expected_hf_shape(ours[entry.ours].shape, entry)
        if tuple(tensor.shape) != expected:
            report.mismatched.append(Mismatch(key, expected, tuple(tensor.shape)))
            continue
        updates[entry.ours] = to_ours(tensor, entry)
        body_loaded += not entry.head

    for alias, source_key in table.aliases.items():
        if alias in checkpoint and alias not in used:
            used.add(alias)
            original = source_key if source_key in checkpoint else source_key.removeprefix(table.hf_body_prefix)
            if original in checkpoint and not torch.equal(checkpoint[alias], checkpoint[original]):
                report.unexpected.append(f"{alias} (differs from {original}; this model ties the two)")
            else:
                report.ignored.append(f"{alias} (a copy of the tied {original})")
    for key in sorted(set(checkpoint) - used):
        (report.dropped if _is_known_head(table, key, prefixed) else report.unexpected).append(key)

    if strict and report.problems:
        raise CheckpointMismatchError(report)
    if body_loaded == 0:
        raise CheckpointError(
            f"no tensor in {source} fits {report.model}'s body, so nothing would be loaded; is it a "
            f"checkpoint of this architecture?\n{report.describe(problems_only=True)}"
        )
    with torch.no_grad():
        for name, tensor in updates.items():
            ours[name].copy_(tensor)
    report.loaded = len(updates)
    return report
