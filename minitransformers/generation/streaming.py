"""Streaming text: print a continuation piece by piece while it is being generated.

Tokens are not always whole characters: a byte-level BPE token can hold
half of a UTF-8 character, and WordPiece's ``##ing`` glues onto the
previous token. So we decode *all* new ids each step and hand out only the
text that was added, holding back text that ends in an unfinished
character (the replacement sign ``\\ufffd``) until the next token completes it.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from .generate import generate_stream


def stream_text(model, tokenizer, prompt: str, max_new_tokens: int = 50, **kwargs) -> Iterator[str]:
    """Yield pieces of text continuing ``prompt``; ``"".join`` of them is the decoded continuation.

    ``kwargs`` go to ``generate_stream`` (``temperature``, ``top_k``, ``seed``, ...).
    Example: ``for piece in stream_text(model, tok, "ROMEO:"): print(piece, end="")``.
    """
    device = next(model.parameters()).device
    input_ids = torch.tensor([tokenizer.encode(prompt)], device=device)
    kwargs.setdefault("decode", tokenizer.decode)
    new_ids: list[int] = []
    shown = ""
    for token in generate_stream(model, input_ids, max_new_tokens, **kwargs):
        new_ids.append(int(token))
        text = tokenizer.decode(new_ids)
        if text.endswith("\ufffd"):
            continue  # half a character so far: wait for the rest
        if text.startswith(shown):
            piece, shown = text[len(shown):], text
            if piece:
                yield piece
    text = tokenizer.decode(new_ids)
    if text.startswith(shown) and len(text) > len(shown):
        yield text[len(shown):]
