"""Hugging Face ModernBERT ``config.json`` <-> our ``BertConfig`` with ModernBERT's parts, both ways.

A ModernBERT is a BERT with parts swapped (``config.MODERNBERT_SWAPS``) and
a stack of global and local blocks: ``layer_types`` lists
``"full_attention"`` every n-th layer from layer 0 (our ``global_every=n``)
and ``"sliding_attention"`` between, where each token sees
``local_attention // 2`` neighbours on each side. Our sliding window counts
the token itself, so it is one wider: ``window = local_attention // 2 + 1``.
Global and local layers have rotary bases of their own (160,000 and
10,000 in ModernBERT-base), carried by ``extra["positional_kwargs"]``.

What our parts cannot do is refused, naming the key: other layer patterns,
rotary scaling, biases in some layers but not others, a head activation
other than the layers' one, and a masked-LM decoder without its bias.
"""

from __future__ import annotations

from typing import Any

from ..config import MODERNBERT_SWAPS, BertConfig
from ..registry import ACTIVATION_ALIASES
from .config_mapping import ACTIVATION_TO_HF, _build, _check_model_type, _dtype_name, differences
from .llama_config import rope_theta
from .report import CheckpointError

# HF config key -> our field name.
MODERNBERT_CONFIG_KEYS = {
    "vocab_size": "vocab_size",
    "hidden_size": "hidden_size",
    "num_hidden_layers": "n_layers",
    "num_attention_heads": "n_heads",
    "intermediate_size": "intermediate_size",
    "hidden_activation": "activation",
    "max_position_embeddings": "max_positions",
    "norm_eps": "layer_norm_eps",
    "initializer_range": "initializer_range",
    "pad_token_id": "pad_token_id",
    "attention_dropout": "attention_dropout",
    "mlp_dropout": "hidden_dropout",  # we use one rate for embeddings, residual branches and the MLP
}
MODERNBERT_DEFAULTS = {
    "vocab_size": 50368, "hidden_size": 768, "num_hidden_layers": 22, "num_attention_heads": 12,
    "intermediate_size": 1152, "hidden_activation": "gelu", "max_position_embeddings": 8192, "norm_eps": 1e-5,
    "initializer_range": 0.02, "pad_token_id": 50283, "attention_dropout": 0.0, "mlp_dropout": 0.0,
}
BIAS_KEYS = ("attention_bias", "mlp_bias", "norm_bias", "classifier_bias")  # all False in ModernBERT
GLOBAL, LOCAL = "full_attention", "sliding_attention"
DEFAULT_THETAS = {GLOBAL: 160_000.0, LOCAL: 10_000.0}
OLD_THETA_KEYS = {GLOBAL: "global_rope_theta", LOCAL: "local_rope_theta"}  # before transformers 5


def _refuse(key: str, value: Any, why: str, supported: str) -> None:
    raise CheckpointError(f"config.json sets {key}={value!r}, but {why} in minitransformers (supported: {supported})")


def global_every_from(hf: dict[str, Any], n_layers: int) -> int:
    """``n`` such that layers ``0, n, 2n, ...`` are global and the others local; refuses other patterns."""
    types = hf.get("layer_types")
    if types is None:
        return int(hf.get("global_attn_every_n_layers", 3))
    if not isinstance(types, list) or len(types) != n_layers or set(types) - {GLOBAL, LOCAL}:
        _refuse("layer_types", types, f"it must list {GLOBAL!r} or {LOCAL!r} for each of the {n_layers} layers",
                "such a list")
    globals_at = [i for i, kind in enumerate(types) if kind == GLOBAL]
    every = globals_at[1] if len(globals_at) > 1 else n_layers
    if not globals_at or types != [GLOBAL if i % every == 0 else LOCAL for i in range(n_layers)]:
        _refuse("layer_types", types, "our stacks put a global layer first and then every n-th one",
                "layers 0, n, 2n, ... global and the others local")
    return every


def _theta(hf: dict[str, Any], kind: str) -> float:
    parameters = (hf.get("rope_parameters") or {}).get(kind)
    if parameters is None:
        parameters = {"rope_type": "default", "rope_theta": hf.get(OLD_THETA_KEYS[kind], DEFAULT_THETAS[kind])}
    return rope_theta(hf, parameters, where=f"rope_parameters.{kind}")


def modernbert_config_from_hf(hf: dict[str, Any]) -> BertConfig:
    """A ``BertConfig`` with ModernBERT's parts from the contents of a ModernBERT ``config.json``."""
    _check_model_type(hf, "modernbert", "ModernBert", "a BERT model")
    biases = {key: bool(hf.get(key, False)) for key in BIAS_KEYS}
    odd = [key for key in BIAS_KEYS if biases[key] != biases["attention_bias"]]
    if odd:
        _refuse(odd[0], biases[odd[0]], f"with attention_bias={biases['attention_bias']} only some layers would "
                f"have biases, and our bias field switches them all", f"the same value for {', '.join(BIAS_KEYS)}")
    if hf.get("decoder_bias", True) is not True:
        _refuse("decoder_bias", hf["decoder_bias"], "the masked-LM decoder always has a bias", "true")
    activation = hf.get("hidden_activation", "gelu")
    head_activation = hf.get("classifier_activation", "gelu")
    if ACTIVATION_ALIASES.get(head_activation, head_activation) != ACTIVATION_ALIASES.get(activation, activation):
        _refuse("classifier_activation", head_activation, f"the head uses the layers' activation "
                f"(hidden_activation={activation!r})", repr(activation))
    fields = {ours: hf.get(theirs, MODERNBERT_DEFAULTS[theirs]) for theirs, ours in MODERNBERT_CONFIG_KEYS.items()}
    fields["activation"] = ACTIVATION_ALIASES.get(fields["activation"], fields["activation"])
    n_layers = fields["n_layers"]
    every = global_every_from(hf, n_layers) if isinstance(n_layers, int) else 3
    local_attention = hf.get("local_attention", 128)
    if not isinstance(local_attention, int) or local_attention < 0:
        _refuse("local_attention", local_attention, "the local window is a number of tokens", "an integer >= 0")
    fields.update(
        MODERNBERT_SWAPS, bias=biases["attention_bias"],
        extra={"positional_kwargs": {"base": _theta(hf, GLOBAL)}},
        global_every=every,
        local_layers={"attention": "sliding_window", "extra": {
            "attention_kwargs": {"window": local_attention // 2 + 1},
            "positional_kwargs": {"base": _theta(hf, LOCAL)},
        }},
    )
    return _build(BertConfig, fields, MODERNBERT_CONFIG_KEYS)


def _local(config: BertConfig) -> tuple[int, float] | None:
    """The local blocks' window and rotary base, if ``local_layers`` is a sliding window and nothing else."""
    local = config.local_layers
    extra = local.get("extra", {})
    window = extra.get("attention_kwargs", {}).get("window")
    # Local blocks merge their extra into the global one's: without a base of their own they keep its base.
    base = extra.get("positional_kwargs", config.extra.get("positional_kwargs", {})).get("base", 10_000.0)
    expected = {"attention": "sliding_window", "extra": {"attention_kwargs": {"window": window},
                                                        "positional_kwargs": {"base": base}}}
    if not isinstance(window, int) or window < 1:
        return None
    same = local == expected or local == {"attention": "sliding_window",
                                          "extra": {"attention_kwargs": {"window": window}}}
    return (window, base) if same else None


def modernbert_differences(config: BertConfig) -> dict[str, Any]:
    """What a BERT config has that transformers' ModernBERT classes cannot hold (empty: it can be saved)."""
    standard = {key: value for key, value in MODERNBERT_SWAPS.items() if key != "bias"}
    standard.update(norm="layernorm", attention="multi_head", fused_qkv=False)
    different = differences(config, standard)
    if config.global_every is not None and _local(config) is None:
        different["local_layers"] = config.local_layers
    if set(config.extra) - {"positional_kwargs"} or set(config.extra.get("positional_kwargs", {})) - {"base"}:
        different["extra"] = config.extra
    return different


def modernbert_config_to_hf(config: BertConfig, architecture: str, dtype) -> dict[str, Any]:
    """The ``config.json`` contents for a ModernBERT-shaped BERT, as ``transformers`` writes them."""
    different = modernbert_differences(config)
    if different:
        raise CheckpointError(
            f"cannot save in Hugging Face ModernBERT format: {different} differ from ModernBERT's parts "
            f"({MODERNBERT_SWAPS}, global_every=n with local_layers a sliding window); "
            f"save the weights with torch.save(model.state_dict(), path) instead"
        )
    hf = {theirs: getattr(config, ours) for theirs, ours in MODERNBERT_CONFIG_KEYS.items()}
    activation = ACTIVATION_TO_HF[ACTIVATION_ALIASES.get(config.activation, config.activation)]
    every = config.global_every or 1  # None: every block global
    window, local_base = _local(config) or (1, DEFAULT_THETAS[LOCAL])
    global_base = config.extra.get("positional_kwargs", {}).get("base", 10_000.0)
    hf.update(
        {key: config.bias for key in BIAS_KEYS}, decoder_bias=True, hidden_activation=activation,
        classifier_activation=activation, embedding_dropout=config.hidden_dropout, tie_word_embeddings=True,
        layer_types=[GLOBAL if i % every == 0 else LOCAL for i in range(config.n_layers)],
        local_attention=2 * (window - 1),
        rope_parameters={GLOBAL: {"rope_type": "default", "rope_theta": float(global_base)},
                         LOCAL: {"rope_type": "default", "rope_theta": float(local_base)}},
        # Our config keeps no other special tokens; transformers' defaults would point outside a small vocabulary.
        bos_token_id=None, eos_token_id=None, cls_token_id=None, sep_token_id=None,
    )
    return {"architectures": [architecture], "model_type": "modernbert", "dtype": _dtype_name(dtype), **hf}
