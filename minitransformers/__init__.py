"""minitransformers: a from-scratch, teachable transformer library.

Read in order: ``masks`` -> ``attention`` -> ``feedforward``, ``positional``
-> ``blocks`` -> ``models/bert.py``, ``models/gpt.py``.

Sub-packages: ``tokenizers``, ``pretrained`` (Hugging Face checkpoints),
``generation``, ``inference``, ``inspection`` (activation cache and hooks),
``plotting`` (imported on demand: it pulls in matplotlib), ``components``
(worked examples of custom layers), ``exercises``, ``data``, ``training``.
"""

from . import norms as _norms  # noqa: F401  (registers "layernorm")
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

# Worked examples register themselves ("rotary", "alibi", "rmsnorm", ...) on import.
from .components import (  # noqa: E402
    ALiBiPositions, GroupedQueryAttention, RMSNorm, RotaryPositions, SinusoidalPositions,
    SlidingWindowAttention, SwiGLUFeedForward, grouped_query,
)
from .device import pick_device, pick_dtype  # noqa: E402
from .explorer import AttentionExplorer, explore  # noqa: E402
from .generation import generate, generate_stream, stream_text  # noqa: E402
from .inference import fill_mask, next_sentence_score, sentence_embeddings  # noqa: E402
from .inspection import (  # noqa: E402
    ActivationCache, attention_entropy, attention_rollout, head_entropy, hook_names, hooks,
    model_hooks, patch_from, run_with_cache, zero_head,
)
from .pretrained import (  # noqa: E402
    CheckpointError, CheckpointMismatchError, LoadingReport, load_pretrained, minilm_path, save_pretrained,
)
from .tokenizers import (  # noqa: E402
    ByteLevelBPETokenizer, CharTokenizer, Tokenizer, WordPieceTokenizer, encode_and_show, load_tokenizer,
    train_bpe,
)

__version__ = "0.1.0"
