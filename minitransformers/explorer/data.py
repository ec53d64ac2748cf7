"""What the attention explorer shows, as plain data: tokens, per-head weights and the model's mask.

``attention_data`` runs the model once with ``output_attentions=True`` and
returns a dict that ``json.dumps`` can write as is. The page's script reads
exactly this dict, so a student can look at ``explorer.data`` in Python and
see what the browser sees:

- ``tokens`` (``t`` strings), ``ids``, ``segments`` (0 = sentence A,
  1 = sentence B; ``None`` for GPT).
- ``attentions[i][head][query][key]``: the weights ``(h t s)`` of layer
  ``layers[i]``, rounded to 4 decimals (each row sums to 1 within the rounding).
- ``masks`` and ``mask_of_layer``: the mask each layer really applied, one
  string of ``"1"`` (may attend) / ``"0"`` (hidden) per query row. Layers
  usually share one mask, so each distinct mask is stored once.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import nn

from ..masks import bidirectional_mask, causal_mask
from ..models import BertModel, GPTModel
from ..body import find_body as base_find_body

DECIMALS = 4


def find_body(model: nn.Module) -> BertModel | GPTModel:
    """The BERT or GPT stack inside ``model`` (the model itself, or e.g. ``GPTLMHeadModel.gpt``)."""
    body, _ = base_find_body(model)
    if isinstance(body, (BertModel, GPTModel)):
        return body
    raise TypeError(
        f"the attention explorer needs a mini-BERT or mini-GPT model (BertModel, GPTModel, or a "
        f"head class such as GPTLMHeadModel or BertForPreTraining), got {type(model).__name__}"
    )


def encode_input(
    text_or_ids: str | Sequence[int] | torch.Tensor,
    tokenizer=None,
    text_pair: str | None = None,
    token_type_ids: Sequence[int] | torch.Tensor | None = None,
) -> tuple[list[int], list[int] | None]:
    """Text (with a tokenizer) or token ids -> ``(ids, segment ids or None)`` for one sequence."""
    if isinstance(text_or_ids, str):
        if tokenizer is None:
            raise TypeError(
                "got text but no tokenizer: pass tokenizer=... (e.g. load_tokenizer(directory)) "
                "or give token ids instead of text"
            )
        encoded = tokenizer(text_or_ids, text_pair=text_pair)
        return list(encoded["input_ids"]), list(encoded["token_type_ids"])
    if text_pair is not None:
        raise TypeError("text_pair needs text (a string) as the first input, not token ids")
    ids = torch.as_tensor(text_or_ids)
    if ids.dim() == 2 and ids.shape[0] == 1:
        ids = ids[0]  # a batch of one, as tokenizers return with return_tensors="pt"
    if ids.dim() != 1:
        raise ValueError(
            f"the explorer shows one sequence: expected ids of shape (t,) or (1, t), "
            f"got shape {tuple(ids.shape)}; pick one row, e.g. input_ids[0]"
        )
    segments = None if token_type_ids is None else torch.as_tensor(token_type_ids).flatten().tolist()
    if segments is not None and len(segments) != len(ids):
        raise ValueError(f"token_type_ids has {len(segments)} entries but there are {len(ids)} tokens")
    return ids.tolist(), segments


def _mask_rows(mask: torch.Tensor) -> list[str]:
    """Boolean ``(t s)`` -> ``t`` strings such as ``"1100"`` (compact and easy to read)."""
    return ["".join("1" if allowed else "0" for allowed in row) for row in mask.tolist()]


def _record_masks(body: nn.Module, store: list) -> list:
    """Hooks that record, per layer, which scores were masked (set to the dtype's minimum).

    Reading the masked scores, not the mask argument, also catches masks an
    attention variant adds inside itself (e.g. a sliding window).
    """
    handles = []
    for block in body.blocks:
        hook_point = getattr(block.attention, "hook_masked_scores", None)
        if hook_point is None:
            continue

        def record(module, inputs, output):
            # (b h t s) -> (t s): heads share one mask; take the first sequence
            store.append((output[0] > torch.finfo(output.dtype).min).any(dim=0))

        handles.append(hook_point.register_forward_hook(record))
    return handles


@torch.no_grad()
def attention_data(
    model: nn.Module,
    ids: list[int],
    segments: list[int] | None = None,
    tokens: list[str] | None = None,
    max_tokens: int = 128,
    layers: Sequence[int] | None = None,
) -> dict:
    """Run ``model`` on one sequence and return the explorer's data dict (see the module docstring).

    Sequences longer than ``max_tokens`` are cut (with a warning): the page
    holds ``layers * heads * t * t`` numbers (about 6 bytes each), so its
    size grows with ``t**2``. ``layers`` keeps only those layers (all by default).
    """
    body = find_body(model)
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    n_model_layers = len(body.blocks)
    layers = list(range(n_model_layers)) if layers is None else [int(layer) for layer in layers]
    if not layers or any(not 0 <= layer < n_model_layers for layer in layers):
        raise ValueError(
            f"layers must be a non-empty list of layer numbers in 0..{n_model_layers - 1}, got {layers}"
        )
    original_length = len(ids)
    if original_length > max_tokens:
        warnings.warn(
            f"the input has {original_length} tokens; the explorer keeps the first {max_tokens}. "
            f"Pass a larger max_tokens to see more (the page grows with the square of it).",
            stacklevel=3,
        )
        ids, tokens = ids[:max_tokens], None if tokens is None else tokens[:max_tokens]
        segments = None if segments is None else segments[:max_tokens]
    tokens = [str(i) for i in ids] if tokens is None else [str(token) for token in tokens]
    is_bert = isinstance(body, BertModel)
    input_ids = torch.tensor([ids], dtype=torch.long, device=body.device)
    kwargs = {}
    if is_bert and segments is not None:
        kwargs["token_type_ids"] = torch.tensor([segments], dtype=torch.long, device=body.device)

    was_training, recorded = body.training, []
    handles = _record_masks(body, recorded)
    body.eval()  # attention dropout would change the weights from run to run
    try:
        out = body(input_ids, output_attentions=True, **kwargs)
    finally:
        body.train(was_training)
        for handle in handles:
            handle.remove()

    t = len(ids)
    if len(recorded) != len(out.attentions):  # an attention variant without hook points
        family = bidirectional_mask(t) if is_bert else causal_mask(t)
        recorded = [family] * len(out.attentions)
    masks, mask_of_layer = [], []
    for mask in (recorded[layer] for layer in layers):
        rows = _mask_rows(mask.cpu())
        if rows not in masks:
            masks.append(rows)
        mask_of_layer.append(masks.index(rows))

    # float64 before rounding, so 0.1234 is written as "0.1234", not "0.12340000271797180"
    attentions = [
        (torch.round(weights[0].double().cpu() * 10**DECIMALS) / 10**DECIMALS).tolist()
        for weights in (out.attentions[layer] for layer in layers)
    ]
    n_numbers = len(layers) * body.config.n_heads * t * t
    if n_numbers > 3_000_000:
        warnings.warn(
            f"the page will hold {n_numbers:,} weights (about {6 * n_numbers / 1e6:.0f} MB) and may be "
            f"slow to open; pass a smaller max_tokens or pick a few layers with layers=[...]",
            stacklevel=3,
        )
    config = body.config
    return {
        "model": type(model).__name__,
        "kind": "bert" if is_bert else "gpt",
        "mask_kind": "bidirectional" if is_bert else "causal",
        "layers": layers,  # the model's layer numbers, in the order of ``attentions``
        "n_layers": len(attentions),
        "model_layers": n_model_layers,
        "n_heads": config.n_heads,
        "tokens": tokens,
        "ids": list(ids),
        "segments": (segments or [0] * t) if is_bert else None,
        "truncated_from": original_length if original_length > t else None,
        "decimals": DECIMALS,
        "masks": masks,
        "mask_of_layer": mask_of_layer,
        "attentions": attentions,
    }
