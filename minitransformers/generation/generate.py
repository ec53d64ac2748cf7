"""Generate tokens one at a time, reusing earlier keys and values through the KV cache."""

from __future__ import annotations

import torch

from ..kv_cache import new_cache


@torch.no_grad()
def generate(
    model,
    input_ids: torch.Tensor,
    max_new_tokens: int = 20,
    temperature: float = 0.0,
    use_cache: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Append ``max_new_tokens`` tokens to ``input_ids (b t)``; returns ``(b, t + max_new_tokens)``.

    ``temperature=0`` picks the most likely token (greedy); a positive
    temperature samples from ``softmax(logits / temperature)``.
    """
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    max_positions = model.config.max_positions
    if input_ids.shape[1] + max_new_tokens > max_positions:
        raise ValueError(
            f"prompt ({input_ids.shape[1]} tokens) + max_new_tokens ({max_new_tokens}) exceeds "
            f"max_positions={max_positions}; shorten the prompt or ask for fewer tokens"
        )
    cache = new_cache(model.config.n_layers) if use_cache else None
    tokens, step_input = input_ids, input_ids
    for _ in range(max_new_tokens):
        logits = model(step_input, cache=cache).logits[:, -1]  # (b v)
        if temperature == 0:
            next_token = logits.argmax(dim=-1, keepdim=True)
        else:
            probs = torch.softmax(logits / temperature, dim=-1)
            next_token = torch.multinomial(probs, 1, generator=generator)
        tokens = torch.cat([tokens, next_token], dim=1)
        step_input = next_token if use_cache else tokens
    return tokens
