"""Sparse prediction: mini-BERT's pre-training loss with the MLM head run only where a label is set.

``BertForPreTraining(**batch).loss`` scores every position against the whole
vocabulary, then cross-entropy throws away all but the masked ones (the rest
carry ``IGNORE_INDEX``). With 15-40% of the tokens masked, most of the MLM
head's work, ``(b t c) x (c v)``, is never used. "Cramming" (Geiping &
Goldstein, 2022) calls the fix *sparse prediction*: pick the labelled
positions first, then run the head on those ``n`` vectors only,
``(n c) x (c v)``. The loss and every gradient are the same, because the
dropped positions never reached the loss; ``tests/test_masked_positions.py``
checks both against the dense computation.

Wrap the model for training only; it shares the model's weights, so the model
itself is what you save, load and evaluate:

    trainer = Trainer(MaskedPositionsLoss(bert), train_set, config)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..models.base import IGNORE_INDEX
from ..outputs import ModelOutput


class MaskedPositionsLoss(nn.Module):
    """``BertForPreTraining``'s MLM (+ NSP) loss, the MLM head run only at the labelled positions.

    ``forward`` takes the batch ``BertForPreTraining`` takes and returns a
    :class:`ModelOutput` with ``loss`` only (no logits: they were never built).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        for part in ("bert", "mlm_head", "nsp_head"):
            if not hasattr(model, part):
                raise TypeError(f"MaskedPositionsLoss wraps a BertForPreTraining (with .{part}); "
                                f"got {type(model).__name__}")
        self.model = model
        self.config = model.config  # what the Trainer reads (vocabulary checks, resume checks)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                next_sentence_label: torch.Tensor | None = None) -> ModelOutput:
        if labels is None:
            raise ValueError("MaskedPositionsLoss needs labels: it computes the MLM head only where they are set")
        out = self.model.bert(input_ids, attention_mask, token_type_ids)
        chosen = labels != IGNORE_INDEX  # (b t)
        logits = self.model.mlm_head(out.last_hidden_state[chosen])  # (n v): n labelled positions
        # The same mean as the dense loss: over labelled positions only. No labels at all gives
        # nan there as here (cross-entropy of an empty set), so both agree on that too.
        loss = F.cross_entropy(logits.float(), labels[chosen])
        if next_sentence_label is not None:
            nsp_logits = self.model.nsp_head(out.pooler_output)
            loss = loss + F.cross_entropy(nsp_logits.float(), next_sentence_label.flatten())
        return ModelOutput(loss=loss)
