"""Next-sentence prediction: does sentence B follow sentence A?

BERT's second pre-training task. The pair goes in as
``[CLS] A [SEP] B [SEP]`` with segment ids 0 for A and 1 for B; the pooled
``[CLS]`` vector feeds a two-way classifier whose class 0 means "B is the
next sentence" and class 1 "B is a random sentence".
"""

from __future__ import annotations

import torch

from ._common import check_text, evaluating, model_device


def next_sentence_score(model, tokenizer, a: str, b: str) -> float:
    """Probability that ``b`` follows ``a``, from a ``BertForPreTraining`` model's NSP head."""
    check_text(a, "a")
    check_text(b, "b")
    batch = tokenizer(a, b, truncation=True, max_length=model.config.max_positions, return_tensors="pt")
    device = model_device(model)
    with evaluating(model):
        out = model(batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device),
                    token_type_ids=batch["token_type_ids"].to(device))
    if out.nsp_logits is None:
        raise TypeError(f"{type(model).__name__} has no next-sentence head; use BertForPreTraining")
    return float(torch.softmax(out.nsp_logits[0].float(), dim=-1)[0])  # class 0 = "is next"
