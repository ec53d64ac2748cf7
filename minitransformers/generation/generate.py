"""Generate text one token at a time, reusing earlier keys and values through the KV cache.

The loop, for each new token:

1. run the model on what it has not seen yet (the whole prompt the first
   time; with the cache, only the one token chosen last; without it, the
   whole sequence again),
2. take the logits at the last position ``(b, v)``,
3. choose a token (``sampling.py``) and append it,
4. stop rows that produced an end token or a stop string (``stopping.py``).

Batches of prompts with different lengths are **left-padded**: padding
goes first, so every row's newest token sits in the last column. The
``attention_mask`` hides the padding and each real token's position is
its count among the real tokens before it (``cumsum - 1``), so a padded
prompt gets the same positions, and the same tokens, as when alone.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence

import torch

from ..kv_cache import new_cache
from .compiled import static_decoder
from .sampling import choose_next_token
from .stopping import StopConditions


def positions_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """``(b, t)`` 1/0 mask -> ``(b, t)`` positions: 0, 1, 2, ... over real tokens (padding gets 0)."""
    return (attention_mask.long().cumsum(dim=-1) - 1).clamp(min=0)


@torch.no_grad()
def generate_stream(
    model,
    input_ids: torch.Tensor,
    max_new_tokens: int = 20,
    *,
    attention_mask: torch.Tensor | None = None,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition_penalty: float = 1.0,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    eos_token_id: int | Sequence[int] | None = None,
    pad_token_id: int | None = None,
    stop_strings: str | Sequence[str] = (),
    decode: Callable[[list[int]], str] | None = None,
    use_cache: bool = True,
    sliding_context: bool = False,
    compile: bool = False,
) -> Iterator[torch.Tensor]:
    """Yield the next token of every row, ``(b,)`` ids, one step at a time.

    Arguments are those of ``generate``. Rows that have finished get
    ``pad_token_id`` while the others go on; the stream ends when every row
    is finished or after ``max_new_tokens`` steps. For one prompt,
    ``int(token)`` gives the id.
    """
    _check_arguments(model, input_ids, max_new_tokens, attention_mask, seed, generator, sliding_context)
    if compile and not use_cache:
        raise ValueError("compile=True compiles the cached one-token step: it needs use_cache=True")
    if compile and "only_last_position" not in inspect.signature(model.forward).parameters:
        raise ValueError(f"compile=True needs a GPTLMHeadModel-like forward(..., only_last_position=...); "
                         f"{type(model).__name__} has none: generate without compile")
    if seed is not None:
        generator = torch.Generator(device=input_ids.device).manual_seed(seed)
    if eos_token_id is None:
        eos_token_id = getattr(model.config, "eos_token_id", None)
    eos_ids = [] if eos_token_id is None else [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)
    stop = StopConditions(eos_ids, stop_strings, decode)
    if pad_token_id is None:
        pad_token_id = getattr(model.config, "pad_token_id", None)
        pad_token_id = pad_token_id if pad_token_id is not None else (eos_ids[0] if eos_ids else 0)

    b, t = input_ids.shape
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    attention_mask = attention_mask.long()  # (b, t), grows by one column per step
    tokens = input_ids  # (b, t), grows by one column per step
    finished = torch.zeros(b, dtype=torch.bool, device=input_ids.device)
    # The model sees columns start.. of the sequence: all of them, unless a sliding context
    # has moved its start to keep the last `limit` tokens.
    limit = _position_limit(model) if sliding_context else None
    start = max(0, t - limit) if limit is not None else 0
    decoder, cache = _decoder_and_cache(model, b, t + max_new_tokens, limit, use_cache, compile,
                                        input_ids.device)

    # Our LM heads can skip the logits of every position but the last; other models just run.
    accepts = inspect.signature(model.forward).parameters
    last_only = {"only_last_position": True} if "only_last_position" in accepts else {}
    # Without padding the mask hides nothing: our models then need none, and their fused
    # attention skips building masks in every layer at every step. Other models get it as usual.
    pass_mask = bool((attention_mask == 0).any()) or not last_only
    was_training = model.training
    model.eval()  # dropout off: generation should not be random unless we sample
    try:
        step_mask = attention_mask[:, start:]
        step_ids, step_positions = tokens[:, start:], positions_from_mask(step_mask)
        refill = True  # the cache is empty: this step feeds every visible token
        for _ in range(max_new_tokens):
            if decoder is not None:
                step = decoder.prefill if refill else decoder.step
                logits = step(model, step_ids, step_mask, step_positions)
            else:
                if refill and cache is not None:
                    for layer in cache:
                        layer.clear()
                logits = model(
                    step_ids, attention_mask=step_mask if pass_mask else None, position_ids=step_positions,
                    cache=cache, **last_only,
                ).logits[:, -1]  # (b, v): scores for the token after the last one
            next_token = choose_next_token(
                logits, temperature=temperature, top_k=top_k, top_p=top_p,
                repetition_penalty=repetition_penalty, previous_ids=tokens,
                previous_mask=attention_mask, generator=generator,
            )[:, 0]  # (b,)
            next_token = torch.where(finished, torch.full_like(next_token, pad_token_id), next_token)
            yield next_token

            tokens = torch.cat([tokens, next_token[:, None]], dim=1)
            attention_mask = torch.cat([attention_mask, torch.ones_like(attention_mask[:, :1])], dim=1)
            if stop:
                finished |= stop.finished(next_token, tokens[:, input_ids.shape[1]:])
                if bool(finished.all()):
                    return
            refill = not use_cache
            if limit is not None and tokens.shape[1] - start > limit:
                # Full: keep the last `limit` tokens, renumber their positions from 0 and
                # recompute their keys and values (learned positions change with the numbering).
                start, refill = tokens.shape[1] - limit, True
            step_mask = attention_mask[:, start:]
            if refill:
                step_ids, step_positions = tokens[:, start:], positions_from_mask(step_mask)
            else:
                # Earlier keys and values are in the cache: feed only the new token.
                step_ids, step_positions = next_token[:, None], step_positions[:, -1:] + 1
    finally:
        model.train(was_training)


def generate(model, input_ids: torch.Tensor, max_new_tokens: int = 20, **kwargs) -> torch.Tensor:
    """Continue ``input_ids (b, t)``; returns ``(b, t + n)`` with ``n <= max_new_tokens`` new tokens.

    Defaults give greedy decoding (``temperature=0``) with the KV cache.

    Args:
        attention_mask: ``(b, t)`` 1/0, for left-padded batches of prompts.
        temperature: 0 for greedy; above 0 samples from ``softmax(logits / temperature)``.
        top_k: sample only among the ``k`` most likely tokens.
        top_p: sample only among the most likely tokens holding ``top_p`` of the probability.
        repetition_penalty: above 1 makes tokens already in the sequence less likely.
        seed / generator: make sampling repeatable (give one or the other).
        eos_token_id: id(s) that end a row (default: ``model.config.eos_token_id``; ``[]`` for none).
        pad_token_id: what finished rows get while others go on.
        stop_strings: texts that end a row; need ``decode`` (e.g. ``tokenizer.decode``).
        use_cache: keep keys and values between steps (same tokens, much less work).
        sliding_context: go on past the model's ``max_positions``: when the sequence is
            full, keep its last ``max_positions`` tokens as the context (positions
            renumbered from 0, the cache recomputed). Off, a request past the
            position table is an error.
        compile: capture the one-token step with ``torch.compile(mode="reduce-overhead")``
            (CUDA graphs on a GPU) on a static cache of ``max_positions`` slots; same
            tokens as eager. The first call compiles (seconds to a minute); later calls
            with the same batch size reuse it.

    It stops early when every row has finished.
    """
    new_tokens = list(generate_stream(model, input_ids, max_new_tokens, **kwargs))
    if not new_tokens:
        return input_ids
    return torch.cat([input_ids, torch.stack(new_tokens, dim=1)], dim=1)


def _decoder_and_cache(model, b: int, total: int, limit: int | None, use_cache: bool, compile: bool, device):
    """The compiled decoder (or None) and the per-layer caches (or None) for one generation.

    An eager cache holds exactly what this generation needs: ``total`` tokens, or
    the sliding window's ``limit``. A compiled one is as long as the position table,
    so that every call with this batch size replays the same compiled step.
    """
    if compile:
        full_limit = _position_limit(model)
        capacity = full_limit if full_limit is not None else -(-total // 256) * 256
        decoder = static_decoder(model, b, capacity, device)
        return decoder, decoder.cache
    if not use_cache:
        return None, None
    return None, new_cache(model.config.n_layers, total if limit is None else min(total, limit))


def _check_arguments(model, input_ids, max_new_tokens, attention_mask, seed, generator, sliding_context) -> None:
    """Catch mistakes before the first forward pass, with messages that say what to change."""
    if not isinstance(input_ids, torch.Tensor) or input_ids.dim() != 2:
        shape = tuple(input_ids.shape) if isinstance(input_ids, torch.Tensor) else type(input_ids).__name__
        raise ValueError(f"input_ids must be a (batch, seq_len) tensor, got {shape}; "
                         f"for one prompt use ids.unsqueeze(0)")
    if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an integer >= 0, got {max_new_tokens!r}")
    if attention_mask is not None and attention_mask.shape != input_ids.shape:
        raise ValueError(f"attention_mask has shape {tuple(attention_mask.shape)}, expected "
                         f"{tuple(input_ids.shape)} like input_ids")
    if attention_mask is not None and bool((attention_mask[:, -1] == 0).any()):
        raise ValueError("the last column of attention_mask has padding: batched generation needs "
                         "LEFT padding (tokenizer.padding_side = 'left') so every prompt ends in the "
                         "last column")
    if seed is not None and generator is not None:
        raise ValueError("give either seed= or generator=, not both")
    limit = _position_limit(model)
    t = input_ids.shape[1]
    if limit is not None and t + max_new_tokens > limit and not sliding_context:
        fix = (f"ask for at most {limit - t} new tokens or shorten the prompt" if t < limit
               else f"shorten the prompt to fewer than {limit} tokens")
        raise ValueError(
            f"prompt ({t} tokens) + max_new_tokens ({max_new_tokens}) = {t + max_new_tokens} exceeds "
            f"the position table (max_positions={limit}); {fix}, or pass sliding_context=True to "
            f"keep generating with the last {limit} tokens as context"
        )


def _position_limit(model) -> int | None:
    """Longest sequence the model can place: its position table's size (None: no limit)."""
    from ..body import find_body

    positional = getattr(find_body(model)[0], "positional", None)
    if positional is not None:
        return positional.max_positions
    return model.config.max_positions
