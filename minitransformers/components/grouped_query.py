"""Grouped-query attention (GQA) and multi-query attention (MQA): heads share keys and values.

When generating, the KV cache holds every layer's keys and values for every
earlier token, and for long texts it outgrows the model itself. GQA keeps
all ``h`` query heads but only ``g`` key/value heads; each group of
``h / g`` query heads reads the same keys and values. The cache shrinks by
the factor ``h / g``.

- ``g = h``: ordinary multi-head attention (same weights, same outputs).
- ``g = 1``: multi-query attention, one key/value head for all.

How to choose ``g`` in a config: by name, with the extra keyword in ``extra``
(a config built this way can be saved and loaded by name)::

    config = GPTConfig.preset("tiny", n_heads=4, attention="grouped_query",
                              extra={"attention_kwargs": {"n_kv_heads": 2}})

or ``attention="multi_query"`` (``g = 1``), or in a notebook
``attention=grouped_query(2)`` (a ``functools.partial``).
"""

from __future__ import annotations

import functools

import torch
from einops import rearrange, repeat
from torch import nn

from ..attention import MultiHeadAttention


class GroupedQueryAttention(MultiHeadAttention):
    """Attention with ``n_heads`` query heads sharing ``n_kv_heads`` key/value heads.

    Weights: ``query (c -> h*d)``, ``key`` and ``value (c -> g*d)``,
    ``output (h*d -> c)``; the names match ``MultiHeadAttention`` with
    ``fused_qkv=False``, so its weights load here when ``g = h``. Keys and
    values are always three separate matrices (``fused_qkv`` is ignored)
    because they are narrower than the queries.
    """

    def __init__(
        self,
        hidden_size: int,
        n_heads: int,
        *,
        n_kv_heads: int | None = None,
        fused_qkv: bool = False,
        bias: bool = True,
        attention_dropout: float = 0.0,
        output_dropout: float = 0.0,
        impl: str = "manual",
        causal: bool = False,
        relative_positions: nn.Module | None = None,
    ) -> None:
        super().__init__(
            hidden_size, n_heads, fused_qkv=False, bias=bias, attention_dropout=attention_dropout,
            output_dropout=output_dropout, impl=impl, causal=causal, relative_positions=relative_positions,
        )
        n_kv_heads = n_heads if n_kv_heads is None else n_kv_heads
        if not isinstance(n_kv_heads, int) or n_kv_heads <= 0 or n_heads % n_kv_heads != 0:
            divisors = [g for g in range(1, n_heads + 1) if n_heads % g == 0]
            raise ValueError(
                f"n_kv_heads={n_kv_heads!r} must divide n_heads={n_heads} so that the query heads "
                f"split into equal groups; choose one of {divisors}"
            )
        self.n_kv_heads = n_kv_heads
        self.shares_kv_heads = n_kv_heads < n_heads  # MultiHeadAttention.forward then calls expand_kv_heads
        self.group_size = n_heads // n_kv_heads
        # Replace the parent's full-width key/value projections by narrow ones.
        self.key = nn.Linear(hidden_size, n_kv_heads * self.head_size, bias=bias)
        self.value = nn.Linear(hidden_size, n_kv_heads * self.head_size, bias=bias)

    def project_qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(b t c)`` -> queries ``(b h t d)``, keys and values ``(b g t d)``."""
        q = rearrange(self.query(x), "b t (h d) -> b h t d", h=self.n_heads)
        k = rearrange(self.key(x), "b t (g d) -> b g t d", g=self.n_kv_heads)
        v = rearrange(self.value(x), "b t (g d) -> b g t d", g=self.n_kv_heads)
        return q, k, v

    def expand_kv_heads(self, kv: torch.Tensor) -> torch.Tensor:
        """``(b g s d) -> (b h s d)``: query head ``i`` reads key/value head ``i // group_size``.

        ``MultiHeadAttention.forward`` calls this *after* appending to the KV
        cache, so the cache stores the ``g`` shared heads only: that is where
        the memory is saved. From here on it is multi-head attention.
        """
        return repeat(kv, "b g s d -> b (g r) s d", r=self.group_size)

    def extra_repr(self) -> str:
        return f"n_heads={self.n_heads}, n_kv_heads={self.n_kv_heads}, head_size={self.head_size}"


def grouped_query(n_kv_heads: int) -> functools.partial:
    """A config value for GQA with ``n_kv_heads`` key/value heads: ``attention=grouped_query(2)``."""
    return functools.partial(GroupedQueryAttention, n_kv_heads=n_kv_heads)


multi_query = grouped_query(1)  # the config name "multi_query": one key/value head for all
