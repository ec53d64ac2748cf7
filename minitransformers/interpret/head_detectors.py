"""Head detectors: one score per layer and head, ``(l h)``, for what a head's attention pattern does.

    patterns = attention_patterns(model, input_ids)          # (l b h t s), GPT or BERT
    previous_token_scores(patterns)                          # attends to the token before
    next_token_scores(patterns)                              # ... after (an encoder can grow these)
    sink_scores(patterns, input_ids)                         # parks attention on the first token
    sink_scores(patterns, input_ids, token_id=sep_id)        # ... or on every [SEP]
    repeated = repeated_random_tokens(vocab_size, 40)        # random tokens, then the same again
    induction_scores(attention_patterns(model, repeated), repeated)

Every score is a mean attention weight in ``[0, 1]``: 1 when each query
puts all its weight where the detector looks. Queries that cannot take
part are left out: a query that sees only one key (GPT's first token) has
no choice to make, the first token has no previous token, the last has no
next one, and padding is never a query. Which keys a query sees comes from
the causal and padding masks (``causal=``, ``attention_mask=``), not from
which weights are above 0: a softmax can round a seen key's weight to 0.

**Induction heads** (Elhage et al., 2021; Olsson et al., 2022) complete a
pattern ``A B ... A -> B``: at the second ``A`` they attend to the ``B``
that followed the first. On random tokens repeated once, only a head that
does that can score: the score is the mean weight a query puts on the
positions just after earlier occurrences of its own token, over the
queries whose token did occur before. TransformerLens's ``detect_head``
sums the same weights but divides by *all* queries.
"""

from __future__ import annotations

import torch
from einops import einsum, rearrange

from ..inspection import run_with_cache
from .model_parts import evaluating, model_parts


def attention_patterns(model: torch.nn.Module, input_ids: torch.Tensor, **forward_kwargs) -> torch.Tensor:
    """Every layer's attention weights on ``input_ids``, stacked: ``(l b h t s)``.

    Works on any model with blocks (``GPTModel``, ``BertModel`` and their
    heads); keyword arguments (``attention_mask``) go to the model.
    """
    model_parts(model)  # one clear line for something that is not a transformer
    with evaluating(model):
        _, cache = run_with_cache(model, input_ids, names_filter=lambda name: name.endswith("hook_weights"),
                                  **forward_kwargs)
    return cache.stack("weights")


def _check_patterns(patterns: torch.Tensor) -> torch.Tensor:
    if not isinstance(patterns, torch.Tensor) or patterns.dim() != 5 or patterns.shape[-1] != patterns.shape[-2]:
        found = tuple(patterns.shape) if isinstance(patterns, torch.Tensor) else type(patterns).__name__
        raise ValueError(f"expected attention patterns of shape (layers, batch, heads, t, t) from "
                         f"attention_patterns(model, input_ids), got {found}")
    return patterns.float()


def _check_input(patterns: torch.Tensor, values, name: str) -> None:
    """``input_ids`` / ``attention_mask`` must be ``(b t)``: the inputs and tokens the patterns were computed on."""
    expected = (patterns.shape[1], patterns.shape[-1])
    found = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
    if found != expected:
        raise ValueError(f"{name} has shape {found}, the patterns were computed on {expected} (batch, tokens); "
                         f"pass the {name} the patterns come from")


def _mean_over_queries(patterns: torch.Tensor, looked_at: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """Mean over the chosen queries of the weight each puts on its looked-at keys: ``(l h)``.

    ``looked_at``: bool ``(b t s)``, the keys each query should attend to;
    ``queries``: bool ``(b t)``, the queries that count.
    """
    weights = einsum(patterns, looked_at.to(patterns.dtype), "l b h t s, b t s -> l h b t")
    kept = queries.to(patterns.dtype)
    count = kept.sum()
    if count == 0:
        raise ValueError("no query can take part in this score (is the input long enough, and does "
                         "it hold what the detector looks for?)")
    return einsum(weights, kept, "l h b t, b t -> l h") / count


def _queries_with_choice(patterns: torch.Tensor, attention_mask: torch.Tensor | None,
                         causal: bool | None) -> torch.Tensor:
    """``(b t)``: the real queries that the masks let see more than one real key.

    Read from the causal and padding masks, never from ``weights > 0``: a
    softmax can underflow to exactly 0 on a key the query does see.
    ``causal=None`` reads the causal mask from the patterns: it makes every
    weight above the diagonal exactly 0 in every layer and head, which an
    encoder does only if all its heads ignore every later key.
    """
    if causal is not None and not isinstance(causal, bool):
        raise TypeError(f"causal must be True (a decoder such as GPT), False (an encoder such as BERT) or None "
                        f"(read from the patterns), got {type(causal).__name__} {causal!r}")
    if causal is None:
        causal = not bool(patterns.triu(diagonal=1).any())
    b, t = patterns.shape[1], patterns.shape[-1]
    keys = torch.arange(t, device=patterns.device)
    visible = (keys[None, :] <= keys[:, None]) if causal else torch.ones(t, t, dtype=torch.bool, device=keys.device)
    visible = visible.expand(b, t, t)  # (b t s)
    if attention_mask is not None:
        _check_input(patterns, attention_mask, "attention_mask")
        real = attention_mask.bool().to(patterns.device)
        # Padding is neither a key nor a query.
        visible = visible & rearrange(real, "b s -> b 1 s") & rearrange(real, "b t -> b t 1")
    return visible.sum(dim=-1) > 1


def _shifted(patterns: torch.Tensor, offset: int, attention_mask: torch.Tensor | None, causal: bool | None):
    """Keys at ``query + offset``, and the queries for which that key exists (and is not padding)."""
    b, t = patterns.shape[1], patterns.shape[-1]
    positions = torch.arange(t, device=patterns.device)
    looked_at = (positions[None, :] == positions[:, None] + offset).expand(b, t, t)
    queries = _queries_with_choice(patterns, attention_mask, causal) & looked_at.any(dim=-1)
    if attention_mask is not None:
        real = attention_mask.bool().to(patterns.device)
        queries = queries & (real.float() @ looked_at[0].float().T > 0)  # the looked-at key is no padding
    return looked_at, queries


def previous_token_scores(patterns: torch.Tensor, attention_mask: torch.Tensor | None = None,
                          causal: bool | None = None) -> torch.Tensor:
    """Mean weight each query puts on the token just before it: ``(l b h t s) -> (l h)``.

    ``causal``: whether the model was a decoder (``None``: read from the patterns).
    """
    patterns = _check_patterns(patterns)
    return _mean_over_queries(patterns, *_shifted(patterns, -1, attention_mask, causal))


def next_token_scores(patterns: torch.Tensor, attention_mask: torch.Tensor | None = None,
                      causal: bool | None = None) -> torch.Tensor:
    """Mean weight each query puts on the token just after it: ``(l b h t s) -> (l h)``.

    Only an encoder can score: a causal head never sees the next token.
    """
    patterns = _check_patterns(patterns)
    return _mean_over_queries(patterns, *_shifted(patterns, 1, attention_mask, causal))


def sink_scores(patterns: torch.Tensor, input_ids: torch.Tensor, token_id: int | None = None,
                attention_mask: torch.Tensor | None = None, causal: bool | None = None) -> torch.Tensor:
    """Mean weight on "sink" keys: the first token (GPT's first token, BERT's ``[CLS]``), or every
    position holding ``token_id`` (e.g. BERT's ``[SEP]``): ``(l b h t s) -> (l h)``."""
    patterns = _check_patterns(patterns)
    _check_input(patterns, input_ids, "input_ids")
    b, t = input_ids.shape
    if token_id is None:
        looked_at = (torch.arange(t) == 0).expand(b, t, t)
    else:
        if not (input_ids == token_id).any():
            raise ValueError(f"token id {token_id} does not occur in input_ids, so nothing can sink into it")
        looked_at = rearrange(input_ids == token_id, "b s -> b 1 s").expand(b, t, t)
    queries = _queries_with_choice(patterns, attention_mask, causal)
    return _mean_over_queries(patterns, looked_at.to(patterns.device), queries.to(patterns.device))


def induction_scores(patterns: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """Mean weight a query puts on the tokens right after earlier occurrences of its own token.

    ``(l b h t s), (b t) -> (l h)``, averaged over the queries whose token
    occurred before. Feed it ``repeated_random_tokens`` (framed with
    ``[CLS] ... [SEP]`` for BERT if you like: the positions take care of
    themselves).
    """
    patterns = _check_patterns(patterns)
    _check_input(patterns, input_ids, "input_ids")
    t = input_ids.shape[1]
    same = rearrange(input_ids, "b t -> b t 1") == rearrange(input_ids, "b s -> b 1 s")  # (b t s)
    earlier = torch.ones(t, t, dtype=torch.bool).tril(-1)  # key s is before query t
    occurrences = same & earlier.to(same.device)
    # Key s is an induction target of query t when the key before it, s - 1, holds t's token.
    looked_at = torch.zeros_like(occurrences)
    looked_at[:, :, 1:] = occurrences[:, :, :-1]
    return _mean_over_queries(patterns, looked_at.to(patterns.device), looked_at.any(dim=-1).to(patterns.device))


def repeated_random_tokens(vocab_size: int, length: int, batch: int = 4, seed: int = 0,
                           low: int = 0) -> torch.Tensor:
    """``batch`` rows of ``length`` random token ids in ``[low, vocab_size)``, then the same again: ``(b 2*length)``.

    Each row's first half has no repeated token, so only the second half can
    do induction. ``low`` skips the first ids (special tokens, often).
    """
    if length > vocab_size - low:
        raise ValueError(f"length {length} needs that many distinct tokens; only {vocab_size - low} ids "
                         f"lie in [{low}, {vocab_size})")
    generator = torch.Generator().manual_seed(seed)
    rows = [torch.randperm(vocab_size - low, generator=generator)[:length] + low for _ in range(batch)]
    first = torch.stack(rows)
    return torch.cat([first, first], dim=1)
