"""Activation patching: which activations carry the difference between a clean and a corrupted input?

    metric = logit_difference(target=him_id, foil=her_id)     # logits (b t v) -> one number (metrics.py)
    result = patch_activations(model, clean_ids, corrupted_ids, metric, kind="resid_pre")
    result.values          # (layer, position): the metric with that one activation patched
    result.normalized()    # 0 = as corrupted, 1 = as clean
    result.plot(tokens)

Run the *corrupted* input, but put back one activation from the *clean*
run, and measure how much of the clean behaviour returns (Meng et al.,
2022; Wang et al., 2022; Heimersheim & Nanda, 2024). Patching asks a causal
question and needs no linearity, so it works the same on a pre-LN GPT and a
post-LN BERT (for which no direct logit attribution exists: see
``attribution.py``).

Kinds: a ``(b t c)`` activation patched per layer and position
(``"resid_pre"``, ``"attention_out"``, ``"feedforward_out"`` = the MLP
output, ``"resid_mid"``, ``"resid_post"``), or a per-head activation
``(b h t d)`` patched per layer, position and head (``"head_outputs"``,
``"q"``, ``"k"``, ``"v"``; ``per_position=False``: all positions of a head
at once).

``patch_one`` is the definition, one forward pass per patch.
``patch_activations`` computes the same numbers with many patches stacked
along the batch (each copy of the corrupted input gets its own patch), so
every head at every position of a 6-layer model takes a few passes, not
hundreds; the tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from einops import repeat

from ..inspection import hooks, run_with_cache
from ..inspection.names import UnknownNameError
from .metrics import Metric, as_number, for_input
from .model_parts import ModelParts, evaluating, model_parts

STREAM_KINDS = ("resid_pre", "attention_out", "feedforward_out", "resid_mid", "resid_post")
HEAD_KINDS = ("head_outputs", "q", "k", "v")
HOOK_PATHS = {"resid_pre": "hook_resid_pre", "attention_out": "hook_attention_out",
              "feedforward_out": "hook_feedforward_out", "resid_mid": "hook_resid_mid",
              "resid_post": "hook_resid_post", "head_outputs": "attention.hook_head_outputs",
              "q": "attention.hook_q", "k": "attention.hook_k", "v": "attention.hook_v"}


@dataclass(frozen=True)
class Patch:
    """One intervention: the clean activation at ``layer`` (one ``position`` and ``head``, or all)."""

    layer: int
    position: int | None = None  # None: every position
    head: int | None = None  # None: every head (or a kind without heads)


def _logits(model: torch.nn.Module, input_ids: torch.Tensor, forward_kwargs: dict) -> torch.Tensor:
    return _logits_of(model(input_ids, **forward_kwargs), model)


def _logits_of(output, model: torch.nn.Module) -> torch.Tensor:
    logits = getattr(output, "logits", None)
    if logits is None:
        raise TypeError(f"activation patching scores the model's logits, and {type(model).__name__} returns "
                        f"none (it has no output head); use a model with a head, e.g. GPTLMHeadModel, "
                        f"BertForMaskedLM or BertForSequenceClassification")
    return logits


def _check_pair(clean_ids: torch.Tensor, corrupted_ids: torch.Tensor) -> None:
    if clean_ids.shape != corrupted_ids.shape:
        raise ValueError(f"clean input has shape {tuple(clean_ids.shape)} and corrupted {tuple(corrupted_ids.shape)}; "
                         f"patching swaps activations position by position, so both need the same shape: "
                         f"corrupt by swapping a word for one of the same number of tokens")


def _hook_name(parts: ModelParts, kind: str, layer: int) -> str:
    if kind not in HOOK_PATHS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {list(HOOK_PATHS)}")
    return f"blocks.{layer}.{HOOK_PATHS[kind]}"


def _hook_point(parts: ModelParts, name: str) -> torch.nn.Module:
    try:
        return parts.body.get_submodule(name)
    except AttributeError:
        raise UnknownNameError(f"{type(parts.model).__name__} has no activation {name}: its blocks do not name it (see "
                       f"inspection/names.py for the names the library's blocks expose)") from None


def _check_patch(parts: ModelParts, patch: Patch, kind: str, t: int) -> None:
    if patch.head is not None:
        if kind not in HEAD_KINDS:
            raise ValueError(f"{kind!r} has no heads; patch one of {list(HEAD_KINDS)} to patch a head")
        parts.check_head(patch.head)
    if patch.position is not None and not -t <= patch.position < t:
        raise IndexError(f"position {patch.position} does not exist in an input of {t} tokens "
                         f"(positions 0 to {t - 1})")


def _put(activation: torch.Tensor, clean: torch.Tensor, patch: Patch, kind: str) -> None:
    """Copy ``clean``'s values for ``patch`` into ``activation`` (both ``(b t c)`` or ``(b h t d)``), in place."""
    if kind in HEAD_KINDS:  # (b h t d)
        head = slice(None) if patch.head is None else patch.head
        position = slice(None) if patch.position is None else patch.position
        activation[:, head, position] = clean[:, head, position]
    else:  # (b t c)
        position = slice(None) if patch.position is None else patch.position
        activation[:, position] = clean[:, position]


def patch_one(model: torch.nn.Module, corrupted_ids: torch.Tensor, clean_cache, kind: str, patch: Patch,
              metric: Metric, **forward_kwargs) -> float:
    """The metric on ``corrupted_ids`` with one activation taken from ``clean_cache``: one forward pass.

    ``clean_cache``: ``run_with_cache(model, clean_ids)[1]``, on this model
    and ``clean_ids`` of ``corrupted_ids``' shape. This is
    activation patching in its plainest form; ``patch_activations`` runs many
    patches at once and gives the same numbers.
    """
    parts = model_parts(model)
    name = _hook_name(parts, kind, parts.check_layer(patch.layer))
    _check_patch(parts, patch, kind, corrupted_ids.shape[-1])
    metric = for_input(metric, parts.family, corrupted_ids)  # logit_difference without a position gets one here
    clean = clean_cache[name]

    def put_clean(module: torch.nn.Module, inputs, activation: torch.Tensor) -> torch.Tensor:
        if clean.shape != activation.shape:  # else a position of another input would be patched in silently
            raise ValueError(f"clean_cache holds {name} of shape {tuple(clean.shape)}, the corrupted run's has "
                             f"{tuple(activation.shape)}; make the cache with run_with_cache(model, clean_ids) on "
                             f"this model, with clean_ids of corrupted_ids' shape {tuple(corrupted_ids.shape)}")
        patched = activation.clone()
        _put(patched, clean, patch, kind)
        return patched

    # A torch hook straight on the one hook point: hooks() first lists every hook point of the model by name,
    # which cost 5-10% of a patch on the shipped models (the benchmark holds patch_one to 1.1x a plain loop).
    with evaluating(model):
        handle = _hook_point(parts, name).register_forward_hook(put_clean)
        try:
            logits = _logits(model, corrupted_ids, forward_kwargs)
        finally:
            handle.remove()
        return as_number(metric(logits), metric, f"with {patch} patched in")


@dataclass
class PatchingResult:
    """Patching results: ``values`` has one axis per name in ``dims`` (``"layer"``, ``"position"``, ``"head"``).

    ``clean_value`` / ``corrupted_value``: the metric on the unpatched runs.
    """

    values: torch.Tensor
    dims: tuple[str, ...]
    kind: str
    layers: list[int]
    clean_value: float
    corrupted_value: float

    def normalized(self) -> torch.Tensor:
        """``(value - corrupted) / (clean - corrupted)``: 0 = no effect, 1 = fully restores the clean metric."""
        gap = self.clean_value - self.corrupted_value
        if abs(gap) < 1e-9:
            raise ValueError("the metric is the same on the clean and the corrupted input, so there is nothing "
                             "to restore; choose a corruption that changes the metric")
        return (self.values - self.corrupted_value) / gap

    def plot(self, tokens: Sequence[str] | None = None, normalized: bool = True, title: str | None = None):
        """A labelled heat map (see ``plots.plot_patching``)."""
        from .plots import plot_patching

        return plot_patching(self, tokens, normalized=normalized, title=title)


def _grid(parts: ModelParts, kind: str, layers: list[int], t: int, per_position: bool):
    """The patches in the order of the result's axes, and the names of those axes."""
    positions = list(range(t)) if per_position else [None]
    if kind in HEAD_KINDS:
        heads = range(parts.n_heads)
        patches = [Patch(layer, p, h) for layer in layers for p in positions for h in heads]
        return patches, ("layer", "position", "head") if per_position else ("layer", "head")
    if not per_position:
        raise ValueError(f"per_position=False patches whole heads; {kind!r} has no heads, so patch it per position")
    return [Patch(layer, p) for layer in layers for p in positions], ("layer", "position")


def _check_layers(parts: ModelParts, layers) -> list[int]:
    """``layers`` as distinct non-negative indices: a repeat would compute a row twice, none an empty result."""
    if isinstance(layers, (int, str)) or not isinstance(layers, Sequence):
        raise TypeError(f"layers must be a list of layer numbers, e.g. [{layers!r}], or None for all, got "
                        f"{type(layers).__name__} {layers!r}")
    if len(layers) == 0:
        raise ValueError(f"layers is empty; name at least one layer (0 to {parts.n_layers - 1}), or pass None for all")
    checked = [parts.check_layer(layer) for layer in layers]
    repeated = sorted({layer for layer in checked if checked.count(layer) > 1})
    if repeated:
        raise ValueError(f"layers {list(layers)} names layer {repeated[0]} twice (negative numbers count from the "
                         f"end); name each layer once")
    return checked


def _check_batch_size(batch_size) -> None:
    expected = "batch_size must be a positive int (how many patched copies of the input share one forward pass)"
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise TypeError(f"{expected}, got {type(batch_size).__name__} {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"{expected}, got {batch_size}; 1 runs one patch per pass, the default 64 is faster")


def _repeat_kwargs(forward_kwargs: dict, n: int, b: int) -> dict:
    """Tensors with a batch axis (``attention_mask``, ``token_type_ids``) repeated for ``n`` copies."""
    return {key: repeat(value, "b ... -> (n b) ...", n=n)
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == b else value
            for key, value in forward_kwargs.items()}


def patch_activations(
    model: torch.nn.Module,
    clean_ids: torch.Tensor,
    corrupted_ids: torch.Tensor,
    metric: Metric,
    kind: str = "resid_pre",
    per_position: bool = True,
    layers: Sequence[int] | None = None,
    batch_size: int = 64,
    **forward_kwargs,
) -> PatchingResult:
    """Patch every clean activation of ``kind`` (per layer, position, head) into the corrupted run.

    ``metric``: logits ``(b ...)`` -> one number (``logit_difference``
    makes the usual one; without a position it scores GPT's last position
    or BERT's one ``[MASK]``). ``layers``: the layers to patch, each once
    (all by default).
    ``batch_size``: how many patched copies of the input run in one
    forward pass; lower it if memory is short. Keyword arguments
    (``attention_mask``, ``token_type_ids``) go to the model, for both inputs.
    """
    parts = model_parts(model)
    _check_pair(clean_ids, corrupted_ids)
    _check_batch_size(batch_size)
    metric = for_input(metric, parts.family, corrupted_ids)  # logit_difference without a position gets one here
    layers = list(range(parts.n_layers)) if layers is None else _check_layers(parts, layers)
    names = {layer: _hook_name(parts, kind, layer) for layer in layers}
    patches, dims = _grid(parts, kind, layers, corrupted_ids.shape[-1], per_position)
    b = corrupted_ids.shape[0]

    with evaluating(model):
        clean_output, clean_cache = run_with_cache(model, clean_ids, names_filter=list(names.values()),
                                                   **forward_kwargs)
        clean_value = as_number(metric(_logits_of(clean_output, model)), metric, "on the clean input")
        corrupted_value = as_number(metric(_logits(model, corrupted_ids, forward_kwargs)), metric,
                                    "on the corrupted input")
        values = []
        for start in range(0, len(patches), batch_size):
            chunk = patches[start:start + batch_size]

            def put_clean(activation: torch.Tensor, name: str, chunk=chunk) -> torch.Tensor:
                # Copy r of the corrupted input (rows r*b .. r*b + b - 1) gets patch chunk[r], if it is here.
                patched, clean = activation.clone(), clean_cache[name]
                for r, patch in enumerate(chunk):
                    if names[patch.layer] == name:
                        _put(patched[r * b:(r + 1) * b], clean, patch, kind)
                return patched

            used = {names[patch.layer]: put_clean for patch in chunk}
            ids = repeat(corrupted_ids, "b t -> (n b) t", n=len(chunk))
            with hooks(model, used):
                logits = _logits(model, ids, _repeat_kwargs(forward_kwargs, len(chunk), b))
            # In the grid's order, so a NaN is reported for the first patch that gives one.
            values += [as_number(metric(logits[r * b:(r + 1) * b]), metric, f"with {patch} patched in (the first "
                                 f"such patch)") for r, patch in enumerate(chunk)]
    shape = [len(layers)] + ([corrupted_ids.shape[-1]] if "position" in dims else [])
    shape += [parts.n_heads] if "head" in dims else []
    return PatchingResult(torch.tensor(values).reshape(shape), dims, kind, layers, clean_value, corrupted_value)
