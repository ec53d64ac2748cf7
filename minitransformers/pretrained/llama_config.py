"""Hugging Face Llama ``config.json`` <-> our ``GPTConfig`` with Llama's parts, both ways.

A Llama is a GPT with six parts swapped (``config.LLAMA_SWAPS``), so the
translation is the GPT-2 one with other key names plus the swaps. What a
Llama checkpoint can ask for and our parts cannot do is refused, naming
the key: rotary scaling (``rope_type`` other than ``"default"``), sliding
windows, a head size other than ``hidden_size / num_attention_heads``, an
activation other than SiLU, and biases in the attention but not the MLP
(or the reverse): our ``bias`` field is one switch for every layer.
"""

from __future__ import annotations

from typing import Any

from ..config import LLAMA_SWAPS, GPTConfig
from .config_mapping import _build, _check_model_type, _dtype_name, differences
from .report import CheckpointError

# HF config key -> our field name.
LLAMA_CONFIG_KEYS = {
    "vocab_size": "vocab_size",
    "hidden_size": "hidden_size",
    "num_hidden_layers": "n_layers",
    "num_attention_heads": "n_heads",
    "intermediate_size": "intermediate_size",
    "max_position_embeddings": "max_positions",
    "rms_norm_eps": "layer_norm_eps",
    "attention_dropout": "attention_dropout",
    "initializer_range": "initializer_range",
    "pad_token_id": "pad_token_id",
    "bos_token_id": "bos_token_id",
    "eos_token_id": "eos_token_id",
    "tie_word_embeddings": "tied_head",
}
LLAMA_DEFAULTS = {
    "vocab_size": 32000, "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
    "intermediate_size": 11008, "max_position_embeddings": 2048, "rms_norm_eps": 1e-6, "attention_dropout": 0.0,
    "initializer_range": 0.02, "pad_token_id": None, "bos_token_id": 1, "eos_token_id": 2,
    "tie_word_embeddings": False,
}
DEFAULT_ROPE_THETA = 10000.0
# Keys of other families' sliding-window variants (Mistral, Qwen2, Gemma): any value but null is refused.
SLIDING_KEYS = ("sliding_window", "use_sliding_window", "layer_types")


def rope_theta(hf: dict[str, Any], parameters: dict[str, Any] | None = None, where: str = "rope_parameters") -> float:
    """The rotary base of plain RoPE; any scaled variant (linear, dynamic, YaRN, llama3, ...) is refused.

    Files written by transformers 5 say ``rope_parameters: {"rope_type", "rope_theta"}``; older
    ones say ``rope_theta`` and ``rope_scaling`` (null for plain RoPE).
    """
    parameters = hf.get(where) if parameters is None else parameters
    scaling = hf.get("rope_scaling")
    kind = (scaling.get("rope_type") or scaling.get("type")) if isinstance(scaling, dict) else scaling
    if kind not in (None, "default"):
        raise CheckpointError(
            f"config.json sets rope_scaling={scaling!r}, but minitransformers' rotary positions are plain RoPE "
            f"(components/rotary.py); rotary scaling is not implemented (supported: rope_scaling=null)"
        )
    if parameters is None:
        return float(hf.get("rope_theta", DEFAULT_ROPE_THETA))
    if not isinstance(parameters, dict):
        raise CheckpointError(f"config.json sets {where}={parameters!r}; expected an object with rope_type and "
                              f"rope_theta")
    kind = parameters.get("rope_type", parameters.get("type", "default"))
    if kind != "default":
        raise CheckpointError(
            f"config.json sets {where}.rope_type={kind!r}, but minitransformers' rotary positions are plain "
            f"RoPE (components/rotary.py); {kind!r} rotary scaling is not implemented (supported: 'default')"
        )
    factor = parameters.get("partial_rotary_factor", hf.get("partial_rotary_factor", 1.0))
    if factor != 1.0:
        raise CheckpointError(f"config.json sets partial_rotary_factor={factor!r}, but our rotary positions turn "
                              f"every number of a head (supported: 1.0)")
    return float(parameters.get("rope_theta", hf.get("rope_theta", DEFAULT_ROPE_THETA)))


def _refuse(key: str, value: Any, why: str, supported: str) -> None:
    raise CheckpointError(f"config.json sets {key}={value!r}, but {why} in minitransformers (supported: {supported})")


def llama_config_from_hf(hf: dict[str, Any]) -> GPTConfig:
    """A ``GPTConfig`` with Llama's parts from the contents of a Llama ``config.json``."""
    _check_model_type(hf, "llama", "Llama", "a GPT model")
    for key in SLIDING_KEYS:
        if hf.get(key) not in (None, False):
            _refuse(key, hf[key], "sliding-window attention is not part of a Llama", f"{key}=null")
    if hf.get("hidden_act", "silu") != "silu":
        _refuse("hidden_act", hf["hidden_act"], "our SwiGLU gates with SiLU only", "'silu'")
    if hf.get("attention_bias", False) != hf.get("mlp_bias", False):
        _refuse("attention_bias", hf.get("attention_bias", False), f"with mlp_bias={hf.get('mlp_bias', False)!r} "
                "only some layers would have biases, and our bias field switches them all", "equal values")
    fields = {ours: hf.get(theirs, LLAMA_DEFAULTS[theirs]) for theirs, ours in LLAMA_CONFIG_KEYS.items()}
    heads = fields["n_heads"]
    head_dim = hf.get("head_dim")
    if head_dim is not None and isinstance(heads, int) and heads and head_dim * heads != fields["hidden_size"]:
        _refuse("head_dim", head_dim, f"our heads have hidden_size / num_attention_heads = "
                f"{fields['hidden_size'] // heads} numbers each", f"head_dim={fields['hidden_size'] // heads}")
    eos = fields["eos_token_id"]
    if isinstance(eos, list):  # Llama 3.1 lists several end tokens; our config holds one
        if len(eos) != 1:
            _refuse("eos_token_id", eos, "a config holds one end token", "one id; pass the others to "
                    "generate(eos_token_id=[...]) after editing config.json")
        fields["eos_token_id"] = eos[0]
    n_kv_heads = hf.get("num_key_value_heads") or heads
    if not isinstance(n_kv_heads, int) or not isinstance(heads, int) or n_kv_heads < 1 or heads % n_kv_heads:
        _refuse("num_key_value_heads", n_kv_heads, f"the {heads} query heads must split into equal groups, one "
                f"per key/value head", f"a divisor of num_attention_heads={heads}")
    fields.update(LLAMA_SWAPS, activation="silu", hidden_dropout=0.0, fused_qkv=False,
                  bias=bool(hf.get("attention_bias", False)), tied_head=bool(fields["tied_head"]),
                  extra={"attention_kwargs": {"n_kv_heads": n_kv_heads},
                         "positional_kwargs": {"base": rope_theta(hf)}})
    return _build(GPTConfig, fields, LLAMA_CONFIG_KEYS)


def llama_differences(config: GPTConfig) -> dict[str, Any]:
    """What a GPT config has that transformers' Llama classes cannot hold (empty: it can be saved)."""
    standard = {key: value for key, value in LLAMA_SWAPS.items() if key not in ("bias", "tied_head", "attention")}
    standard.update(block="decoder", global_every=None)
    different = differences(config, standard)
    if config.attention not in ("grouped_query", "multi_query") and (config.attention, config.fused_qkv) != (
            "multi_head", False):
        different["attention"] = config.attention  # Llama's q/k/v are three matrices
    extra = {key: value for key, value in config.extra.items() if key not in ("attention_kwargs", "positional_kwargs")}
    if extra or set(config.extra.get("positional_kwargs", {})) - {"base"}:
        different["extra"] = config.extra
    return different


def _n_kv_heads(config: GPTConfig) -> int:
    if config.attention == "multi_query":
        return 1
    return config.extra.get("attention_kwargs", {}).get("n_kv_heads") or config.n_heads


def llama_config_to_hf(config: GPTConfig, architecture: str, dtype) -> dict[str, Any]:
    """The ``config.json`` contents for a Llama-shaped GPT, as ``transformers`` writes them."""
    different = llama_differences(config)
    if different:
        raise CheckpointError(
            f"cannot save in Hugging Face Llama format: {different} differ from Llama's parts "
            f"({LLAMA_SWAPS}, attention 'grouped_query', block 'decoder'); "
            f"save the weights with torch.save(model.state_dict(), path) instead"
        )
    hf = {theirs: getattr(config, ours) for theirs, ours in LLAMA_CONFIG_KEYS.items()}
    base = config.extra.get("positional_kwargs", {}).get("base", DEFAULT_ROPE_THETA)
    hf.update(
        num_key_value_heads=_n_kv_heads(config), head_dim=config.head_size, hidden_act="silu",
        attention_bias=config.bias, mlp_bias=config.bias, pretraining_tp=1, use_cache=True,
        rope_parameters={"rope_type": "default", "rope_theta": float(base)},
    )
    return {"architectures": [architecture], "model_type": "llama", "dtype": _dtype_name(dtype), **hf}
