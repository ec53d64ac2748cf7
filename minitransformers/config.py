"""Model configurations: small validated dataclasses with named presets.

Names follow the original papers' hyper-parameters in plain words
(``n_layers``, ``n_heads``, ``hidden_size``). ``pretrained/`` holds the table
that maps them to the names in Hugging Face ``config.json`` files.

Presets (parameter counts with the preset's vocabulary, embeddings included):

=============  ======  ======  =====  ========  ==========
preset         layers  hidden  heads  context   parameters
=============  ======  ======  =====  ========  ==========
GPT ``tiny``        2      64      2       128       ~0.2 M
GPT ``mini``        4     256      4       256       ~5.3 M
GPT ``gpt2``       12     768     12      1024       ~124 M
BERT ``tiny``       2      64      2       128       ~0.2 M
BERT ``mini``       4     256      4       256       ~5.4 M
BERT ``bert-base`` 12     768     12       512       ~110 M
=============  ======  ======  =====  ========  ==========

Newer architectures are these models with parts swapped, each swap one
field: ``LLAMA_SWAPS`` (GPT -> Llama) and ``MODERNBERT_SWAPS`` (BERT ->
ModernBERT) list them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

from .registry import ATTENTION_IMPLS, REGISTRIES, check_activation

Component = str | Callable[..., Any]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(name: str, value: Any, low: int = 1) -> None:
    """``value`` must be a real ``int`` (not ``2.0``, not ``True``) and at least ``low``."""
    if not _is_int(value):
        hint = f" (write {int(value)})" if isinstance(value, float) and value.is_integer() else ""
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}{hint}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")


def check_float(name: str, value: Any, low: float, high: float | None = None, *,
                low_open: bool = False, high_open: bool = True) -> None:
    """``value`` must be a finite number in the given range (an ``int`` is fine; a string is not)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        hint = " (write the number without quotes)" if isinstance(value, str) else ""
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}{hint}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        upper = "inf" if high is None else high
        raise ValueError(f"{name} must be in {left}{low}, {upper}{right}, got {value!r}")


def check_token_id(name: str, value: Any, vocab_size: int) -> None:
    """A special token id: ``None`` or an integer in ``[0, vocab_size)``."""
    if value is None:
        return
    check_int(name, value, low=0)
    if value >= vocab_size:
        raise ValueError(f"{name}={value} is outside the vocabulary: ids go from 0 to {vocab_size - 1}")


@dataclass
class TransformerConfig:
    """What BERT and GPT configs share. Build models from ``BertConfig`` or ``GPTConfig``."""

    vocab_size: int = 1000
    hidden_size: int = 64
    n_layers: int = 2
    n_heads: int = 2
    intermediate_size: int | None = None  # None: 4 * hidden_size, as in both papers
    max_positions: int = 128
    activation: str = "gelu"
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02
    pad_token_id: int | None = 0
    attn_impl: str = "manual"
    fused_qkv: bool = False  # one matrix for queries, keys and values (GPT-2) or three (BERT)
    # Components, by registered name or as a class/factory (see registry.py).
    attention: Component = "multi_head"
    positional: Component = "learned"
    norm: Component = "layernorm"
    feedforward: Component = "mlp"
    block: Component = "encoder"
    bias: bool = True  # False: no biases in the linear layers and no shift in LayerNorm (Llama, ModernBERT)
    # A stack that alternates attention kinds (ModernBERT): blocks 0, n, 2n, ... are built from this config,
    # the blocks in between from it with `local_layers` applied (see layer_config). None: every block alike.
    global_every: int | None = None
    local_layers: dict = field(default_factory=dict)
    # Free-form options for components: "attention_kwargs" (e.g. {"n_kv_heads": 2} for grouped-query,
    # {"window": 8} for sliding windows) and "positional_kwargs" (e.g. {"base": 500000.0} for rotary).
    extra: dict = field(default_factory=dict)

    PRESETS: ClassVar[dict] = {}  # filled in by subclasses
    causal: ClassVar[bool] = False  # True: each token sees only the tokens before it (GPT)
    # A guard against typos like hidden_size=2**20: configs estimated above this many
    # parameters are refused before anything is allocated. Raise it on the class if you mean it.
    MAX_PARAMETERS: ClassVar[float] = 20e9
    # Fields that size a tensor (or count them): positive integers, all counted in the estimate.
    SIZE_FIELDS: ClassVar[tuple[str, ...]] = (
        "vocab_size", "hidden_size", "n_layers", "n_heads", "intermediate_size", "max_positions",
    )
    MAY_BE_ZERO: ClassVar[tuple[str, ...]] = ()  # size fields where 0 means "this part is absent"
    # What local_layers may change: the parts of a block, not the sizes every block shares.
    LAYER_FIELDS: ClassVar[tuple[str, ...]] = ("attention", "feedforward", "norm", "extra")

    def __post_init__(self) -> None:
        if self.intermediate_size is None:
            self.intermediate_size = 4 * self.hidden_size if _is_int(self.hidden_size) else None
        for name in self.SIZE_FIELDS:
            check_int(name, getattr(self, name), low=0 if name in self.MAY_BE_ZERO else 1)
        if self.hidden_size % self.n_heads != 0:
            raise ValueError(
                f"hidden_size={self.hidden_size} must be divisible by n_heads={self.n_heads} "
                f"(each head gets hidden_size / n_heads dimensions); "
                f"try n_heads in {[h for h in range(1, 17) if self.hidden_size % h == 0]}"
            )
        for name in ("hidden_dropout", "attention_dropout"):
            check_float(name, getattr(self, name), 0.0, 1.0)
        check_float("layer_norm_eps", self.layer_norm_eps, 0.0, low_open=True)
        check_float("initializer_range", self.initializer_range, 0.0)
        if self.attn_impl not in ATTENTION_IMPLS:
            raise ValueError(f"attn_impl must be one of {ATTENTION_IMPLS}, got {self.attn_impl!r}")
        check_activation(self.activation)  # a ValueError listing the choices
        for name in ("fused_qkv", "bias"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name in REGISTRIES:
            value = getattr(self, name)
            if not (isinstance(value, str) and value) and not callable(value):
                raise TypeError(f"{name} must be a registered name or a class, got {value!r}")
        if not isinstance(self.extra, dict):
            raise TypeError(f"extra must be a dict, got {type(self.extra).__name__}")
        for name in self.token_id_fields():
            check_token_id(name, getattr(self, name), self.vocab_size)
        self._check_layers()
        self._check_size()

    def _check_layers(self) -> None:
        if not isinstance(self.local_layers, dict):
            raise TypeError(f"local_layers must be a dict of config changes, got {type(self.local_layers).__name__}")
        if self.global_every is None:
            if self.local_layers:
                raise ValueError(
                    f"local_layers={self.local_layers!r} is given but global_every is None, so no block is local; "
                    f"set global_every=n to build blocks 0, n, 2n, ... globally and the others with these changes"
                )
            return
        check_int("global_every", self.global_every)
        unknown = sorted(set(self.local_layers) - set(self.LAYER_FIELDS))
        if unknown:
            raise ValueError(
                f"local_layers may change {list(self.LAYER_FIELDS)} of a block, got {unknown}; sizes are "
                f"the same in every block"
            )
        if not isinstance(self.local_layers.get("extra", {}), dict):
            raise TypeError(f"local_layers['extra'] must be a dict, got {self.local_layers['extra']!r}")
        self._local_config()  # builds, and so checks, the local blocks' config

    def layer_config(self, index: int) -> "TransformerConfig":
        """The config block ``index`` is built from: this one, except in a stack of global and local blocks.

        With ``global_every=n``, blocks ``0, n, 2n, ...`` attend globally (this config) and every
        other block is built from this config with ``local_layers`` applied; ``extra`` is merged
        key by key, so the local blocks can carry their own attention and positional options.
        """
        if self.global_every is None or index % self.global_every == 0:
            return self
        return self._local_config()

    def _local_config(self) -> "TransformerConfig":
        changes = dict(self.local_layers)
        if "extra" in changes:
            changes["extra"] = {**self.extra, **changes["extra"]}
        return self.replace(**changes, global_every=None, local_layers={})

    def token_id_fields(self) -> tuple[str, ...]:
        """The fields that hold special token ids."""
        return ("pad_token_id",)

    def parameter_parts(self) -> dict[str, tuple[int, tuple[str, ...]]]:
        """Roughly how many parameters each part of the model has, and the size fields that set it.

        Every field of ``SIZE_FIELDS`` that allocates appears in a part, so a typo in
        any of them shows in the total (``n_heads`` only splits ``hidden_size``).
        """
        c, inner, layers = self.hidden_size, self.intermediate_size, self.n_layers
        return {
            "token embeddings": (self.vocab_size * c, ("vocab_size", "hidden_size")),
            "position embeddings": (self.max_positions * c, ("max_positions", "hidden_size")),
            "blocks": (layers * (4 * c * c + 2 * c * inner), ("n_layers", "hidden_size", "intermediate_size")),
        }

    def estimated_parameters(self) -> int:
        """Roughly how many parameters a model of this config has (every part of ``parameter_parts``)."""
        return sum(count for count, _ in self.parameter_parts().values())

    def largest_part(self, names: dict[str, str] | None = None) -> str:
        """The part with the most parameters and the sizes that make it: where to look for a typo.

        ``names`` shows fields under other names (a ``config.json``'s keys).
        """
        part, (count, fields) = max(self.parameter_parts().items(), key=lambda item: item[1][0])
        names = names or {}
        sizes = ", ".join(f"{names.get(field, field)}={getattr(self, field)}" for field in fields)
        return f"the {part}: {sizes}, about {count:.3g}"

    def _check_size(self) -> None:
        estimate = self.estimated_parameters()
        if estimate > self.MAX_PARAMETERS:
            raise ValueError(
                f"this config would have about {estimate:.3g} parameters (most in {self.largest_part()}), "
                f"more than the limit of {self.MAX_PARAMETERS:.3g}: probably a typo. If you mean it, "
                f"raise the limit first: {type(self).__name__}.MAX_PARAMETERS = {estimate:.3g}"
            )

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.n_heads

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "TransformerConfig":
        """A named configuration, with any field overridden: ``GPTConfig.preset("mini", n_layers=6)``."""
        if name not in cls.PRESETS:
            raise ValueError(f"unknown {cls.__name__} preset {name!r}; choose one of {sorted(cls.PRESETS)}")
        return cls(**{**cls.PRESETS[name], **overrides})

    def replace(self, **changes: Any) -> "TransformerConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form of the config; components given as classes are stored by registered name.

        A component that is not registered (a lambda, a ``functools.partial``)
        has no name to store: register it, or pass its options through ``extra``.
        """
        data = dataclasses.asdict(self)
        for key, registry in REGISTRIES.items():
            value = data[key]
            if callable(value):
                name = registry.name_of(value)
                if name is None:
                    raise ValueError(
                        f"config.{key}={value!r} is not a registered {key}, so it cannot be saved by "
                        f"name; register it with @{key.upper()}S.register(name) and use that name"
                    )
                data[key] = name
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TransformerConfig":
        """Inverse of ``to_dict``; unknown keys are an error, so typos do not pass silently."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} fields {unknown}; known fields: {sorted(known)}")
        return cls(**data)


@dataclass
class BertConfig(TransformerConfig):
    """mini-BERT: a bidirectional encoder stack with token, position and segment embeddings."""

    type_vocab_size: int = 2  # segments: sentence A and sentence B; 0: no segment embeddings (ModernBERT)
    num_labels: int = 2  # for BertForSequenceClassification
    classifier_dropout: float | None = None  # None: use hidden_dropout
    block: Component = "encoder"

    PRESETS: ClassVar[dict] = {
        "tiny": dict(vocab_size=1000, hidden_size=64, n_layers=2, n_heads=2, max_positions=128),
        "mini": dict(vocab_size=8192, hidden_size=256, n_layers=4, n_heads=4, max_positions=256),
        "bert-base": dict(vocab_size=30522, hidden_size=768, n_layers=12, n_heads=12,
                          max_positions=512),
    }
    SIZE_FIELDS: ClassVar[tuple[str, ...]] = (*TransformerConfig.SIZE_FIELDS, "type_vocab_size", "num_labels")
    MAY_BE_ZERO: ClassVar[tuple[str, ...]] = ("type_vocab_size",)

    def parameter_parts(self) -> dict[str, tuple[int, tuple[str, ...]]]:
        c = self.hidden_size
        return {
            **super().parameter_parts(),
            "segment embeddings": (self.type_vocab_size * c, ("type_vocab_size", "hidden_size")),
            "pooler and classifier": (c * c + self.num_labels * c, ("hidden_size", "num_labels")),
        }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.classifier_dropout is not None:
            check_float("classifier_dropout", self.classifier_dropout, 0.0, 1.0)


@dataclass
class GPTConfig(TransformerConfig):
    """mini-GPT: a causal decoder stack with a language-model head tied to the token embeddings."""

    activation: str = "gelu_tanh"
    layer_norm_eps: float = 1e-5
    pad_token_id: int | None = None  # GPT-2 has no padding token
    bos_token_id: int | None = None
    eos_token_id: int | None = None
    block: Component = "decoder"
    fused_qkv: bool = True
    tied_head: bool = True  # the LM head is the token-embedding matrix (GPT-2); False: its own matrix (Llama)

    causal: ClassVar[bool] = True
    PRESETS: ClassVar[dict] = {
        "tiny": dict(vocab_size=1000, hidden_size=64, n_layers=2, n_heads=2, max_positions=128),
        "mini": dict(vocab_size=8192, hidden_size=256, n_layers=4, n_heads=4, max_positions=256),
        "gpt2": dict(vocab_size=50257, hidden_size=768, n_layers=12, n_heads=12,
                     max_positions=1024, bos_token_id=50256, eos_token_id=50256),
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.tied_head, bool):
            raise TypeError(f"tied_head must be True or False, got {self.tied_head!r}")

    def token_id_fields(self) -> tuple[str, ...]:
        return ("pad_token_id", "bos_token_id", "eos_token_id")


# What changed since GPT-2: Llama is a GPT with these six parts swapped, in the order a lesson
# can swap them one at a time (``GPTConfig.preset("tiny", **LLAMA_SWAPS)``). Grouped-query
# attention shares key/value heads once ``extra={"attention_kwargs": {"n_kv_heads": g}}`` says
# how many; without it every query head keeps its own (``g = n_heads``).
LLAMA_SWAPS: dict[str, Any] = {
    "positional": "rotary",  # positions turn queries and keys (components/rotary.py); no position table
    "norm": "rmsnorm",  # pre-RMSNorm: LayerNorm without the centring and the shift (components/rmsnorm.py)
    "feedforward": "swiglu",  # a gated MLP (components/swiglu.py)
    "attention": "grouped_query",  # query heads share key/value heads (components/grouped_query.py)
    "bias": False,  # no biases anywhere
    "tied_head": False,  # the LM head has its own matrix
}

# What changed since BERT: ModernBERT is a BERT with these parts swapped. Its alternation of
# global and local attention also needs ``global_every`` and ``local_layers``, for example
# ``global_every=3, local_layers={"attention": "sliding_window",
# "extra": {"attention_kwargs": {"window": 65}}}`` (each token sees 64 neighbours on each side).
MODERNBERT_SWAPS: dict[str, Any] = {
    "block": "pre_ln_encoder",  # pre-LN, with the embedding norm kept and a final norm added (blocks.py)
    "feedforward": "geglu",  # a GELU-gated MLP (components/geglu.py)
    "positional": "rotary",  # rotary positions (components/rotary.py)
    "type_vocab_size": 0,  # no segment embeddings
    "bias": False,  # no biases in linear layers, no shift in the norms
}
