"""minitransformers: a from-scratch, teachable transformer library.

Read in order (see README's package map): ``masks`` -> ``attention`` ->
``feedforward`` -> ``blocks`` -> ``models/base.py`` -> ``models/gpt.py``,
``models/bert.py``.

Sub-packages: ``tokenizers``, ``pretrained`` (Hugging Face checkpoints),
``generation``, ``inference``, ``inspection`` (activation cache and hooks),
``interpret`` (logit lens, patching, attribution, head detectors),
``plotting`` (imported on demand: it pulls in matplotlib), ``components``
(worked examples of custom layers), ``exercises``, ``data``, ``training``.
"""

from ._startup import quiet_interrupt_while_starting

quiet_interrupt_while_starting()  # Ctrl-C during the imports below: one line, not a traceback

from .attention import MultiHeadAttention, attend, attention_scores, masked_softmax
from .blocks import DecoderBlock, EncoderBlock
from .body import find_body
from .config import LLAMA_SWAPS, MODERNBERT_SWAPS, BertConfig, GPTConfig
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
from .models.base import IGNORE_INDEX
from .outputs import ModelOutput
from .positional import LearnedPositions, NoPositions
from .registry import ATTENTIONS, BLOCKS, FEEDFORWARDS, NORMS, POSITIONALS, Registry
from .components import (  # noqa: E402
    ALiBiPositions, GroupedQueryAttention, RMSNorm, RotaryPositions, SinusoidalPositions,
    SlidingWindowAttention, SwiGLUFeedForward, grouped_query,
)
from .device import pick_device, pick_dtype  # noqa: E402
from .explorer import AttentionExplorer, explore  # noqa: E402
from .generation import generate, generate_stream, stream_text  # noqa: E402
from .inference import fill_mask, next_sentence_score, sentence_embeddings  # noqa: E402
from .inspection import (  # noqa: E402
    ActivationCache, attention_entropy, attention_rollout, head_entropy, hidden_state_similarity, hook_names,
    hooks, model_hooks, patch_from, run_with_cache, zero_head,
)
from .interpret import direct_logit_attribution, logit_lens, patch_activations  # noqa: E402
from .pretrained import (  # noqa: E402
    CheckpointError, CheckpointMismatchError, CheckpointNotFoundError, LoadingReport, load_pretrained, minilm_path,
    save_pretrained, shipped_path,
)
from .tokenizers import (  # noqa: E402
    ByteLevelBPETokenizer, CharTokenizer, Tokenizer, WordPieceTokenizer, encode_and_show, load_tokenizer,
    train_bpe,
)

__version__ = "0.1.0"
