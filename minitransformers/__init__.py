"""minitransformers: a from-scratch, teachable transformer library.

Read in order: ``masks`` -> ``attention`` -> ``feedforward``, ``positional``
-> ``blocks`` -> ``models/bert.py``, ``models/gpt.py``.
"""

from .attention import MultiHeadAttention, attention_scores, masked_softmax, scaled_dot_product_attention
from .blocks import DecoderBlock, EncoderBlock
from .config import BertConfig, GPTConfig, TransformerConfig
from .feedforward import FeedForward
from .hook_points import HookPoint
from .kv_cache import KVCache, new_cache
from .masks import (
    bidirectional_mask, causal_mask, combine_masks, padding_mask, sliding_window_mask, to_additive,
)
from .models import (
    BertForMaskedLM, BertForPreTraining, BertForSequenceClassification, BertModel,
    GPTLMHeadModel, GPTModel, TransformerModel,
)
from .outputs import ModelOutput
from .positional import LearnedPositions, PositionScheme
from .registry import ATTENTIONS, BLOCKS, FEEDFORWARDS, NORMS, POSITIONALS, Registry
from . import norms as _norms  # noqa: F401  (registers "layernorm")

__version__ = "0.1.0"
