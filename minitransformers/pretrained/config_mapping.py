"""Hugging Face ``config.json`` <-> our ``BertConfig`` / ``GPTConfig``, in both directions.

The two libraries store the same hyper-parameters under different names
(``num_hidden_layers`` for BERT, ``n_layer`` for GPT-2, ``n_layers`` for
us). The tables below are the whole translation; everything else in a
``config.json`` (``transformers_version``, ``use_cache``, ...) does not
change the computation and is ignored.

A ``config.json`` written by ``transformers`` leaves out some values equal
to its defaults, so each table comes with the defaults ``transformers``
would assume.
"""

from __future__ import annotations

from typing import Any

from ..config import BertConfig, GPTConfig, TransformerConfig
from ..registry import ACTIVATION_ALIASES
from .report import CheckpointError

# HF config key -> our field name.
BERT_CONFIG_KEYS = {
    "vocab_size": "vocab_size",
    "hidden_size": "hidden_size",
    "num_hidden_layers": "n_layers",
    "num_attention_heads": "n_heads",
    "intermediate_size": "intermediate_size",
    "hidden_act": "activation",
    "hidden_dropout_prob": "hidden_dropout",
    "attention_probs_dropout_prob": "attention_dropout",
    "max_position_embeddings": "max_positions",
    "type_vocab_size": "type_vocab_size",
    "initializer_range": "initializer_range",
    "layer_norm_eps": "layer_norm_eps",
    "pad_token_id": "pad_token_id",
    "classifier_dropout": "classifier_dropout",
}
BERT_DEFAULTS = {
    "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
    "intermediate_size": 3072, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512, "type_vocab_size": 2,
    "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0, "classifier_dropout": None,
}

GPT2_CONFIG_KEYS = {
    "vocab_size": "vocab_size",
    "n_embd": "hidden_size",
    "n_layer": "n_layers",
    "n_head": "n_heads",
    "n_inner": "intermediate_size",  # null in the file means 4 * n_embd, as for us
    "activation_function": "activation",
    # GPT-2 has three dropout rates; we use one for the embeddings and residual branches.
    "resid_pdrop": "hidden_dropout",
    "attn_pdrop": "attention_dropout",
    "n_positions": "max_positions",
    "layer_norm_epsilon": "layer_norm_eps",
    "initializer_range": "initializer_range",
    "pad_token_id": "pad_token_id",
    "bos_token_id": "bos_token_id",
    "eos_token_id": "eos_token_id",
}
GPT2_DEFAULTS = {
    "vocab_size": 50257, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
    "activation_function": "gelu_new", "resid_pdrop": 0.1, "attn_pdrop": 0.1, "n_positions": 1024,
    "layer_norm_epsilon": 1e-5, "initializer_range": 0.02, "pad_token_id": None,
    "bos_token_id": 50256, "eos_token_id": 50256,
}

# Options that change the computation in ways our models do not implement:
# HF key -> (the value we support, what to say if it differs).
BERT_UNSUPPORTED = {
    "position_embedding_type": ("absolute", "relative position embeddings are not implemented"),
    "is_decoder": (False, "BERT used as a decoder is not implemented"),
    "add_cross_attention": (False, "cross-attention is not implemented"),
}
GPT2_UNSUPPORTED = {
    "scale_attn_weights": (True, "attention without 1/sqrt(d) scaling is not implemented"),
    "scale_attn_by_inverse_layer_idx": (False, "per-layer attention scaling is not implemented"),
    "add_cross_attention": (False, "cross-attention is not implemented"),
}

# Our activation name -> the name transformers uses for the same function.
ACTIVATION_TO_HF = {"gelu": "gelu", "gelu_tanh": "gelu_new", "relu": "relu", "silu": "silu"}


def _check_model_type(hf: dict[str, Any], expected: str, arch_prefix: str, family: str) -> None:
    """Refuse a config.json of another architecture before anything is built."""
    found = hf.get("model_type")
    if found is None:  # very old files: judge by the class names instead
        archs = hf.get("architectures") or []
        if all(a.startswith(arch_prefix) for a in archs):
            return
        found = f"{archs}"
    if found != expected:
        raise CheckpointError(
            f"this checkpoint is a {found!r} model, but {family} reads model_type={expected!r} "
            f"checkpoints only; use the matching class (BERT classes read 'bert' and 'modernbert', GPT "
            f"classes read 'gpt2' and 'llama') or a checkpoint of the right architecture"
        )


def _check_supported(hf: dict[str, Any], unsupported: dict[str, tuple[Any, str]]) -> None:
    for key, (supported, why) in unsupported.items():
        if key in hf and hf[key] is not None and hf[key] != supported:
            raise CheckpointError(
                f"config.json sets {key}={hf[key]!r}, but {why} in minitransformers "
                f"(supported: {key}={supported!r})"
            )


def _translate(hf: dict[str, Any], keys: dict[str, str], defaults: dict[str, Any]) -> dict[str, Any]:
    fields = {ours: hf.get(theirs, defaults[theirs]) for theirs, ours in keys.items()}
    activation = fields["activation"]
    fields["activation"] = ACTIVATION_ALIASES.get(activation, activation)
    return fields


def _build(config_class: type, fields: dict[str, Any], keys: dict[str, str]) -> TransformerConfig:
    try:
        return config_class(**fields)
    except (ValueError, TypeError) as error:
        message = str(error)
        # Our field names, as the message says them, and the config.json keys the reader will look for.
        named = [theirs for theirs, ours in keys.items()
                 if theirs != ours and (message.startswith(ours) or f"{ours}=" in message)]
        where = f" (config.json key{'s' * (len(named) > 1)} {', '.join(map(repr, named))})" if named else ""
        raise CheckpointError(
            f"config.json does not give a valid {config_class.__name__}: {message}{where}; "
            f"fix the value in config.json"
        ) from None


def bert_config_from_hf(hf: dict[str, Any]) -> BertConfig:
    """A ``BertConfig`` from the contents of a BERT ``config.json``."""
    _check_model_type(hf, "bert", "Bert", "a BERT model")
    _check_supported(hf, BERT_UNSUPPORTED)
    fields = _translate(hf, BERT_CONFIG_KEYS, BERT_DEFAULTS)
    if "id2label" in hf:
        fields["num_labels"] = len(hf["id2label"])
    elif "num_labels" in hf:
        fields["num_labels"] = hf["num_labels"]
    return _build(BertConfig, fields, BERT_CONFIG_KEYS)


def gpt_config_from_hf(hf: dict[str, Any]) -> GPTConfig:
    """A ``GPTConfig`` from the contents of a GPT-2 ``config.json``."""
    _check_model_type(hf, "gpt2", "GPT2", "a GPT model")
    _check_supported(hf, GPT2_UNSUPPORTED)
    return _build(GPTConfig, _translate(hf, GPT2_CONFIG_KEYS, GPT2_DEFAULTS), GPT2_CONFIG_KEYS)


def differences(config: TransformerConfig, standard: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``config`` that differ from ``standard``, with their values in ``config``."""
    return {k: getattr(config, k) for k, v in standard.items() if getattr(config, k) != v}


def refuse_differences(config: TransformerConfig, standard: dict[str, Any], hf_classes: str) -> None:
    """Raise if ``config`` is not what ``hf_classes`` can hold."""
    different = differences(config, standard)
    if different:
        raise CheckpointError(
            f"cannot save in Hugging Face format: the config uses non-standard components {different}, "
            f"which {hf_classes} do not have (standard: {standard}); "
            f"save the weights with torch.save(model.state_dict(), path) instead"
        )


def _standard(block: str, fused_qkv: bool, config: TransformerConfig) -> dict[str, Any]:
    standard = {"attention": "multi_head", "positional": "learned", "norm": "layernorm",
                "feedforward": "mlp", "block": block, "fused_qkv": fused_qkv, "bias": True, "global_every": None}
    if isinstance(config, GPTConfig):
        standard["tied_head"] = True
    return standard


def bert_differences(config: BertConfig) -> dict[str, Any]:
    """What a BERT config has that transformers' BERT classes cannot hold (empty: it can be saved)."""
    different = differences(config, _standard("encoder", False, config))
    if config.type_vocab_size == 0:
        different["type_vocab_size"] = 0
    return different


def gpt2_differences(config: GPTConfig) -> dict[str, Any]:
    """What a GPT config has that transformers' GPT-2 classes cannot hold (empty: it can be saved)."""
    return differences(config, _standard("decoder", True, config))


def _check_saveable(config: TransformerConfig, block: str, fused_qkv: bool) -> None:
    """Only the standard architecture has a Hugging Face equivalent."""
    refuse_differences(config, _standard(block, fused_qkv, config), "transformers' classes")
    if block == "encoder" and config.type_vocab_size == 0:
        raise CheckpointError("cannot save a BERT without segment embeddings (type_vocab_size=0) as a Hugging "
                              "Face BERT, whose classes always have them")
    name = ACTIVATION_ALIASES.get(config.activation, config.activation)
    if name not in ACTIVATION_TO_HF:
        raise CheckpointError(f"activation {config.activation!r} has no Hugging Face name")


def _dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def bert_config_to_hf(config: BertConfig, architecture: str, dtype) -> dict[str, Any]:
    """The ``config.json`` contents for a BERT model, as ``transformers`` writes them."""
    _check_saveable(config, block="encoder", fused_qkv=False)
    hf = {theirs: getattr(config, ours) for theirs, ours in BERT_CONFIG_KEYS.items()}
    hf["hidden_act"] = ACTIVATION_TO_HF[ACTIVATION_ALIASES.get(config.activation, config.activation)]
    hf["id2label"] = {str(i): f"LABEL_{i}" for i in range(config.num_labels)}
    hf["label2id"] = {f"LABEL_{i}": i for i in range(config.num_labels)}
    hf.update(position_embedding_type="absolute", is_decoder=False, add_cross_attention=False,
              tie_word_embeddings=True)
    return {"architectures": [architecture], "model_type": "bert", "dtype": _dtype_name(dtype), **hf}


def gpt_config_to_hf(config: GPTConfig, architecture: str, dtype) -> dict[str, Any]:
    """The ``config.json`` contents for a GPT model, as ``transformers`` writes them for GPT-2."""
    _check_saveable(config, block="decoder", fused_qkv=True)
    hf = {theirs: getattr(config, ours) for theirs, ours in GPT2_CONFIG_KEYS.items()}
    hf["activation_function"] = ACTIVATION_TO_HF[ACTIVATION_ALIASES.get(config.activation, config.activation)]
    hf["embd_pdrop"] = config.hidden_dropout
    hf.update(scale_attn_weights=True, scale_attn_by_inverse_layer_idx=False,
              reorder_and_upcast_attn=False, add_cross_attention=False, tie_word_embeddings=True)
    return {"architectures": [architecture], "model_type": "gpt2", "dtype": _dtype_name(dtype), **hf}
