"""Fill in the blank: the classic BERT demo.

BERT was pre-trained to recover hidden words from both sides of their
context. Give it ``"The capital of France is [MASK]."`` and its MLM head
scores every vocabulary entry at the ``[MASK]`` position; a softmax turns
the scores into probabilities.
"""

from __future__ import annotations

import torch

from ..tokenizers.readable import readable_token
from ._common import check_text, evaluating, model_device


def fill_mask(model, tokenizer, text: str, top_k: int = 5) -> list[list[dict]]:
    """The ``top_k`` most likely tokens for each ``[MASK]`` in ``text``.

    ``model`` is a BERT with an MLM head (``BertForMaskedLM`` or
    ``BertForPreTraining``). Returns one list per ``[MASK]`` (left to
    right) of ``top_k`` dicts, most likely first:
    ``{"token": str, "token_id": int, "probability": float, "sequence": str}``
    where ``token`` is readable (a newline shows as ``⏎``, a lone space as ``␣``)
    and ``sequence`` is the text with that mask filled in (other masks left).

    ``[MASK]`` is understood whatever the tokenizer calls its mask token
    (``<mask>`` for our byte-level BPE), so one sentence works with every model.
    """
    check_text(text)
    if top_k <= 0:
        raise ValueError(f"top_k must be a positive number of candidates, got {top_k}")
    mask_id = tokenizer.mask_token_id
    if mask_id is None:
        raise ValueError("this tokenizer has no mask token; fill_mask needs a BERT-style tokenizer")
    mask_token = tokenizer.convert_ids_to_tokens(mask_id)
    text = text.replace("[MASK]", mask_token)
    batch = tokenizer(text, truncation=True, max_length=model.config.max_positions,
                      return_tensors="pt")
    input_ids = batch["input_ids"].to(model_device(model))  # (1, t)
    mask_positions = (input_ids[0] == mask_id).nonzero().flatten().tolist()
    if not mask_positions:
        raise ValueError(f"no [MASK] in the text {text!r}; put [MASK] (or {mask_token}) where a word "
                         f"should be predicted")
    with evaluating(model):
        out = model(input_ids, attention_mask=batch["attention_mask"].to(input_ids.device),
                    token_type_ids=batch["token_type_ids"].to(input_ids.device))
    if out.logits is None or out.logits.dim() != 3:
        raise TypeError(f"{type(model).__name__} has no masked-LM head; use BertForMaskedLM or "
                        f"BertForPreTraining")
    results = []
    for position in mask_positions:
        probabilities = torch.softmax(out.logits[0, position].float(), dim=-1)  # (v,)
        best = probabilities.topk(min(top_k, probabilities.numel()))
        candidates = []
        for probability, token_id in zip(best.values.tolist(), best.indices.tolist()):
            filled = input_ids[0].clone()
            filled[position] = token_id
            candidates.append({
                # Readable text of the token: "man", not the byte-level "Ġman"; "⏎", not a blank.
                "token": readable_token(tokenizer.decode([token_id])),
                "token_id": token_id,
                "probability": probability,
                "sequence": _decode_without_frame(tokenizer, filled.tolist(), mask_id),
            })
        results.append(candidates)
    return results


def _decode_without_frame(tokenizer, ids: list[int], mask_id: int) -> str:
    """Decode, dropping [CLS]/[SEP]/padding but keeping the masks not filled in yet."""
    frame = {tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id} - {None}
    return tokenizer.decode([i for i in ids if i not in frame or i == mask_id])
