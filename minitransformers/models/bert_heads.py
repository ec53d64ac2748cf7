"""Task heads on top of mini-BERT: masked LM, pre-training (MLM + NSP), sequence classification.

BERT's two pre-training objectives:

- **Masked language modelling (MLM)**: hide 15% of the tokens and predict
  them from both sides. The output layer reuses (ties) the token embedding
  matrix, so "which word fits here" is a dot product with every word vector.
- **Next-sentence prediction (NSP)**: from the pooled ``[CLS]`` vector, say
  whether sentence B really followed sentence A (label 0) or was a random
  sentence (label 1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import BertConfig
from ..feedforward import get_activation
from ..outputs import ModelOutput
from ..registry import build_norm
from .base import IGNORE_INDEX, TransformerModel
from .bert import BertModel


class BertMLMHead(nn.Module):
    """``(b t c)`` -> ``(b t v)``: dense + activation + norm, then scores against every word embedding."""

    def __init__(self, config: BertConfig, token_embeddings: nn.Embedding) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size, bias=config.bias)
        self.activation = get_activation(config.activation)
        self.norm = build_norm(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.decoder.weight = token_embeddings.weight  # tied: one matrix, two uses

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.norm(self.activation(self.dense(hidden_states))))


def _mlm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)


class BertForMaskedLM(TransformerModel):
    """mini-BERT with the MLM head; ``labels`` hold the hidden tokens' ids and -100 elsewhere."""

    config_class = BertConfig

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=False)
        self.mlm_head = BertMLMHead(config, self.bert.embeddings.token_embeddings)
        self.init_weights()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> ModelOutput:
        """The arguments are ``BertModel.forward``'s, plus the labels."""
        out = self.bert(
            input_ids, attention_mask, token_type_ids, position_ids, output_hidden_states, output_attentions
        )
        out.logits = self.mlm_head(out.last_hidden_state)
        if labels is not None:
            out.loss = _mlm_loss(out.logits, labels)
        return out


class BertForPreTraining(TransformerModel):
    """mini-BERT with both pre-training heads: MLM logits and NSP logits."""

    config_class = BertConfig

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.bert = BertModel(config)
        self.mlm_head = BertMLMHead(config, self.bert.embeddings.token_embeddings)
        self.nsp_head = nn.Linear(config.hidden_size, 2)
        self.init_weights()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        next_sentence_label: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> ModelOutput:
        """The arguments are ``BertModel.forward``'s, plus the labels."""
        out = self.bert(
            input_ids, attention_mask, token_type_ids, position_ids, output_hidden_states, output_attentions
        )
        out.logits = self.mlm_head(out.last_hidden_state)
        out.nsp_logits = self.nsp_head(out.pooler_output)
        losses = []
        if labels is not None:
            losses.append(_mlm_loss(out.logits, labels))
        if next_sentence_label is not None:
            losses.append(F.cross_entropy(out.nsp_logits, next_sentence_label.flatten()))
        if losses:
            out.loss = sum(losses)
        return out


class BertForSequenceClassification(TransformerModel):
    """mini-BERT with a linear classifier on the pooled ``[CLS]`` vector: ``(b t) -> (b num_labels)``.

    With ``num_labels == 1`` it is a regressor (mean squared error loss).
    """

    config_class = BertConfig

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.bert = BertModel(config)
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.init_weights()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> ModelOutput:
        """The arguments are ``BertModel.forward``'s, plus the labels."""
        out = self.bert(
            input_ids, attention_mask, token_type_ids, position_ids, output_hidden_states, output_attentions
        )
        out.logits = self.classifier(self.dropout(out.pooler_output))
        if labels is not None:
            if self.config.num_labels == 1:
                out.loss = F.mse_loss(out.logits.squeeze(-1), labels.to(out.logits.dtype))
            else:
                out.loss = F.cross_entropy(out.logits, labels)
        return out
