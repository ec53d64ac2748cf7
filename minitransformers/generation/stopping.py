"""When to stop generating a sequence: an end-of-sequence token, or a stop string in the text.

A stop *token* is easy to see: compare ids. A stop *string* (``"\\n\\n"``,
``"THE END"``) can be split over several tokens, or be part of one, so we
decode what was generated so far and look for it in the text. The token
that completes the stop string is kept in the output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch

Decode = Callable[[list[int]], str]


class StopConditions:
    """Decides, row by row, whether a sequence is finished.

    Args:
        eos_token_ids: ids that end a sequence (empty: none do).
        stop_strings: texts that end a sequence once they appear in the generated text.
        decode: ids -> text, needed for ``stop_strings`` (e.g. ``tokenizer.decode``;
            a tokenizer object is accepted too).
    """

    def __init__(
        self,
        eos_token_ids: Iterable[int] = (),
        stop_strings: Sequence[str] = (),
        decode: Decode | None = None,
    ) -> None:
        self.eos_token_ids = sorted({int(i) for i in eos_token_ids})
        if isinstance(stop_strings, str):
            stop_strings = [stop_strings]
        self.stop_strings = [s for s in stop_strings if s]
        if decode is not None and hasattr(decode, "decode"):
            decode = decode.decode  # a tokenizer was passed: use its decode method
        if self.stop_strings and decode is None:
            raise ValueError(
                f"stop_strings={self.stop_strings} need a way to turn ids into text; "
                f"pass decode=tokenizer.decode"
            )
        self.decode = decode

    def __bool__(self) -> bool:
        return bool(self.eos_token_ids or self.stop_strings)

    def finished(self, new_token: torch.Tensor, generated: torch.Tensor) -> torch.Tensor:
        """``new_token (b,)`` just chosen, ``generated (b, n)`` all new tokens so far -> ``(b,)`` bool."""
        done = torch.zeros_like(new_token, dtype=torch.bool)
        if self.eos_token_ids:
            eos = torch.tensor(self.eos_token_ids, device=new_token.device)
            done |= torch.isin(new_token, eos)
        if self.stop_strings:
            for row, ids in enumerate(generated.tolist()):
                text = self.decode(ids)
                done[row] |= any(stop in text for stop in self.stop_strings)
        return done
