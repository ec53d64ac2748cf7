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
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from .attention import ATTENTION_IMPLS
from .feedforward import get_activation

Component = str | Callable[..., Any]


@dataclass
class TransformerConfig:
    """What BERT and GPT configs share."""

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
    # Components, by registered name or as a class/factory (see registry.py).
    attention: Component = "multi_head"
    positional: Component = "learned"
    norm: Component = "layernorm"
    feedforward: Component = "mlp"
    block: Component = "encoder"
    extra: dict = field(default_factory=dict)  # free-form options for custom components

    PRESETS = {}  # filled in by subclasses

    def __post_init__(self) -> None:
        if self.intermediate_size is None:
            self.intermediate_size = 4 * self.hidden_size
        for name in ("vocab_size", "hidden_size", "n_layers", "n_heads", "intermediate_size",
                     "max_positions"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.hidden_size % self.n_heads != 0:
            raise ValueError(
                f"hidden_size={self.hidden_size} must be divisible by n_heads={self.n_heads} "
                f"(each head gets hidden_size / n_heads dimensions); "
                f"try n_heads in {[h for h in range(1, 17) if self.hidden_size % h == 0]}"
            )
        for name in ("hidden_dropout", "attention_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")
        if self.layer_norm_eps <= 0:
            raise ValueError(f"layer_norm_eps must be positive, got {self.layer_norm_eps!r}")
        if self.attn_impl not in ATTENTION_IMPLS:
            raise ValueError(f"attn_impl must be one of {ATTENTION_IMPLS}, got {self.attn_impl!r}")
        get_activation(self.activation)  # raises a ValueError listing the choices
        if self.pad_token_id is not None and not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(
                f"pad_token_id={self.pad_token_id} is outside the vocabulary (size {self.vocab_size})"
            )

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.n_heads

    def attention_kwargs(self) -> dict[str, Any]:
        """Keyword arguments every attention component is built with."""
        return dict(
            hidden_size=self.hidden_size,
            n_heads=self.n_heads,
            fused_qkv=self.fused_qkv,
            attention_dropout=self.attention_dropout,
            output_dropout=self.hidden_dropout,
            impl=self.attn_impl,
            # Options for custom attention classes, e.g. {"n_kv_heads": 2} for grouped-query.
            **self.extra.get("attention_kwargs", {}),
        )

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
        from .registry import REGISTRIES

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

    type_vocab_size: int = 2  # segments: sentence A and sentence B
    num_labels: int = 2  # for BertForSequenceClassification
    classifier_dropout: float | None = None  # None: use hidden_dropout
    block: Component = "encoder"
    fused_qkv: bool = False

    PRESETS = {
        "tiny": dict(vocab_size=1000, hidden_size=64, n_layers=2, n_heads=2, max_positions=128),
        "mini": dict(vocab_size=8192, hidden_size=256, n_layers=4, n_heads=4, max_positions=256),
        "bert-base": dict(vocab_size=30522, hidden_size=768, n_layers=12, n_heads=12,
                          max_positions=512),
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.type_vocab_size <= 0:
            raise ValueError(f"type_vocab_size must be positive, got {self.type_vocab_size!r}")
        if self.num_labels <= 0:
            raise ValueError(f"num_labels must be positive, got {self.num_labels!r}")


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

    PRESETS = {
        "tiny": dict(vocab_size=1000, hidden_size=64, n_layers=2, n_heads=2, max_positions=128),
        "mini": dict(vocab_size=8192, hidden_size=256, n_layers=4, n_heads=4, max_positions=256),
        "gpt2": dict(vocab_size=50257, hidden_size=768, n_layers=12, n_heads=12,
                     max_positions=1024, bos_token_id=50256, eos_token_id=50256),
    }
