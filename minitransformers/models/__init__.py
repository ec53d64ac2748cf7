"""mini-BERT and mini-GPT."""

from .base import TransformerModel
from .bert import BertEmbeddings, BertModel, BertPooler
from .bert_heads import BertForMaskedLM, BertForPreTraining, BertForSequenceClassification, BertMLMHead
from .gpt import GPTLMHeadModel, GPTModel

__all__ = [
    "TransformerModel", "BertEmbeddings", "BertModel", "BertPooler", "BertForMaskedLM",
    "BertForPreTraining", "BertForSequenceClassification", "BertMLMHead", "GPTLMHeadModel", "GPTModel",
]
