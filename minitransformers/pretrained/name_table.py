"""``NameTable``: for one of our models, where each of its tensors lives in a Hugging Face checkpoint.

The tables themselves are in ``bert_names.py``, ``gpt2_names.py``,
``llama_names.py`` and ``modernbert_names.py``; this file holds the shape
they share and the few rules that apply to all.

A Hugging Face checkpoint saved from a *task* model (``BertForPreTraining``,
``GPT2LMHeadModel``) puts the model body under a prefix (``bert.``,
``transformer.``) and the heads at the top level (``cls.``, ``lm_head.``).
One saved from the bare body (``BertModel``, ``GPT2Model``) has no prefix.
So body names are stored *without* the prefix and the prefix is added when
the checkpoint has one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch
from einops import rearrange


@dataclass(frozen=True)
class Layout:
    """The same numbers in another order: einops patterns for the checkpoint's side and ours.

    ``Layout("(h two f) ...", "(h f two) ...", (("f", 4),))`` reads rows stored
    as two halves per head as interleaved pairs (see ``llama_names.py``).
    """

    theirs: str
    ours: str
    sizes: tuple[tuple[str, int], ...] = ()  # the axis sizes einops cannot infer


@dataclass(frozen=True)
class Entry:
    """One of our tensors and its name in a Hugging Face checkpoint."""

    ours: str  # key in our model's state_dict
    theirs: str  # key in the HF checkpoint (relative to the body when in_body)
    in_body: bool  # True: gets the body prefix in a checkpoint saved from a task model
    transposed: bool = False  # GPT-2's Conv1D stores weights (in, out); nn.Linear wants (out, in)
    head: bool = False  # part of a task head or the pooler: may be absent from a body checkpoint
    # (i, n): ours is the i-th of n equal blocks of rows of their tensor, where they fuse matrices we keep apart.
    part: tuple[int, int] | None = None
    layout: Layout | None = None  # the checkpoint orders the numbers differently (applied after `part`)


@dataclass
class NameTable:
    """All of a model's tensors, plus the checkpoint names to skip or treat as copies."""

    entries: list[Entry]
    hf_body_prefix: str  # "bert." or "transformer."
    prefixed: bool  # True for our task models: their HF twin saves the body under the prefix
    architecture: str  # the HF class name written to config.json ("BertForPreTraining", ...)
    # Our key -> the key it shares a tensor with (tied weights): loaded and saved once.
    tied: dict[str, str] = field(default_factory=dict)
    # Checkpoint key -> the checkpoint key whose copy it is (old files store tied tensors twice).
    aliases: dict[str, str] = field(default_factory=dict)
    # Regexes of checkpoint buffers that are not weights.
    ignored: tuple[str, ...] = ()
    # Old spellings in checkpoint names -> today's (applied to every key before matching).
    renames: tuple[tuple[str, str], ...] = ()
    # Body-relative checkpoint names of optional parts (the pooler) that may be dropped.
    optional_body: tuple[str, ...] = ()

    def hf_key(self, entry: Entry, prefixed: bool | None = None) -> str:
        """The checkpoint name of ``entry``, with the body prefix if the checkpoint has one."""
        prefixed = self.prefixed if prefixed is None else prefixed
        return self.hf_body_prefix + entry.theirs if entry.in_body and prefixed else entry.theirs

    def modernise(self, key: str) -> str:
        """Rewrite old spellings (``LayerNorm.gamma`` -> ``LayerNorm.weight``)."""
        for old, new in self.renames:
            if key.endswith(old):
                key = key[: -len(old)] + new
        return key

    def is_ignored(self, key: str) -> bool:
        return any(re.search(pattern, key) for pattern in self.ignored)

    def is_droppable(self, key: str, prefixed: bool) -> bool:
        """A checkpoint tensor of a part this model does not have: a task head or the pooler."""
        if prefixed and not key.startswith(self.hf_body_prefix):
            return True  # everything outside the body prefix is a head
        relative = key.removeprefix(self.hf_body_prefix) if prefixed else key
        return relative.startswith(self.optional_body)


def to_ours(tensor: torch.Tensor, entry: Entry) -> torch.Tensor:
    """A checkpoint tensor (its part, for a fused one) in the layout our module wants."""
    if entry.part is not None:
        index, count = entry.part
        tensor = rearrange(tensor, "(n rows) ... -> n rows ...", n=count)[index]
    if entry.transposed:
        tensor = rearrange(tensor, "i o -> o i")
    if entry.layout is not None:
        tensor = rearrange(tensor, f"{entry.layout.theirs} -> {entry.layout.ours}", **dict(entry.layout.sizes))
    return tensor


def to_theirs(tensor: torch.Tensor, entry: Entry) -> torch.Tensor:
    """One of our tensors in the layout the checkpoint stores (its part of a fused tensor: see ``join_parts``)."""
    if entry.layout is not None:
        tensor = rearrange(tensor, f"{entry.layout.ours} -> {entry.layout.theirs}", **dict(entry.layout.sizes))
    return rearrange(tensor, "o i -> i o") if entry.transposed else tensor


def join_parts(pieces: dict[int, torch.Tensor]) -> torch.Tensor:
    """The parts ``{i: rows}`` of one fused checkpoint tensor, stacked in order along the rows."""
    return torch.cat([pieces[index] for index in sorted(pieces)])


def expected_hf_shape(shape: torch.Size, entry: Entry) -> tuple[int, ...]:
    """The shape the checkpoint should have for one of our tensors of ``shape``."""
    shape = tuple(reversed(shape)) if entry.transposed else tuple(shape)
    if entry.part is not None:
        shape = (shape[0] * entry.part[1], *shape[1:])
    return shape


def module_entries(
    state_keys: list[str], ours: str, theirs: str, modules: dict[str, str | Entry], **common,
) -> list[Entry]:
    """Entries for every tensor (``weight``, ``bias``) our model holds in the mapped modules.

    ``modules`` maps our module name to theirs, or to an ``Entry`` template
    whose ``ours``/``theirs`` are module names and whose ``part`` and
    ``layout`` apply to each tensor. ``ours``/``theirs`` are prefixes such as
    ``"gpt.blocks.3."`` and ``"layers.3."``. Only tensors the model has get an
    entry: a layer built without biases (or without a norm) gets none for them.
    """
    entries = []
    for mine, spec in modules.items():
        template = spec if isinstance(spec, Entry) else Entry(mine, spec, in_body=True)
        for key in state_keys:
            if key.startswith(ours + mine + ".") and key.count(".") == (ours + mine).count(".") + 1:
                tensor_name = key.rsplit(".", 1)[1]
                entries.append(Entry(key, f"{theirs}{template.theirs}.{tensor_name}", **{
                    "in_body": template.in_body, "part": template.part, "layout": template.layout, **common,
                }))
    return entries


def layer_entries(
    n_layers: int, ours: str, theirs: str, names: dict[str, str], transposed: tuple[str, ...] = (),
) -> list[Entry]:
    """Expand a per-block table for blocks ``0 .. n_layers - 1``.

    ``ours`` and ``theirs`` are prefixes with ``{i}`` for the block number,
    e.g. ``"blocks.{i}."`` and ``"encoder.layer.{i}."``.
    """
    return [
        Entry(ours.format(i=i) + mine, theirs.format(i=i) + hf, in_body=True, transposed=hf in transposed)
        for i in range(n_layers)
        for mine, hf in names.items()
    ]
