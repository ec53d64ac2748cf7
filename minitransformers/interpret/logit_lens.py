"""The logit lens: what the model would predict if the residual stream stopped after layer ``L``.

    lens = logit_lens(model, input_ids)          # GPT or BERT, same call
    lens.top_k(5)                                # best guesses per layer and position
    lens.target_rank(target_id)                  # (l b p): 0 = the target is the top guess
    print(lens.table(tokenizer, position=4))     # one position, layer by layer

Every layer writes into one residual stream; the logit lens (nostalgebraist,
2020) reads that stream after each layer through the model's *own* output
path (``model_parts.read_out``): GPT's final LayerNorm and tied head, BERT's
MLM transform (dense + GELU + LayerNorm) and tied decoder. The last reading
is exactly the model's logits. For BERT, read it at a ``[MASK]`` position to
ask "after which layer does BERT know the hidden word?".

Why the whole output path, and not only the last LayerNorm and the
embedding matrix: BERT's MLM transform is trained with the decoder, and a
dense layer plus GELU can rotate and reshape the stream a lot; skipping it
reads a different, unnormalised question ("which embedding does this
vector point at?"), not the model's prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..inspection import run_with_cache
from ._checks import token_ids
from .model_parts import evaluating, model_parts


@dataclass
class LogitLens:
    """Logits read from the residual stream after each layer.

    ``logits``: ``(l b p v)`` with ``l = n_layers + 1`` readings (the
    embeddings, then after block 0, 1, ...), ``b`` inputs, ``p`` read
    positions (``positions[i]`` is the input position of reading ``i``).
    """

    logits: torch.Tensor
    positions: list[int]
    input_ids: torch.Tensor
    layer_labels: list[str]
    family: str  # "gpt": position i guesses token i + 1; "bert": position i guesses token i (at a [MASK])

    def probabilities(self) -> torch.Tensor:
        """Softmax over the vocabulary: ``(l b p v)``."""
        return self.logits.float().softmax(dim=-1)

    def top_k(self, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``k`` likeliest tokens at each reading: ``(probabilities, ids)``, each ``(l b p k)``."""
        return self.probabilities().topk(k, dim=-1)

    def _target(self, target: int | torch.Tensor) -> torch.Tensor:
        """``target`` as ``(b p)`` ids: one id for every reading, or one per input and position."""
        _, b, p, v = self.logits.shape
        return token_ids(target, "target", v, (b, p), "(batch, positions)", self.logits.device)

    def target_probability(self, target: int | torch.Tensor) -> torch.Tensor:
        """Probability of ``target`` at each reading: ``(l b p)``."""
        ids = self._target(target)
        return self.probabilities().gather(-1, ids.expand_as(self.logits[..., 0])[..., None])[..., 0]

    def target_rank(self, target: int | torch.Tensor) -> torch.Tensor:
        """Rank of ``target`` at each reading, ``(l b p)``: 0 when it is the top guess.

        The rank counts the tokens with a strictly higher logit, so ties do
        not push the target down.
        """
        ids = self._target(target)
        target_logit = self.logits.gather(-1, ids.expand_as(self.logits[..., 0])[..., None])
        return (self.logits > target_logit).sum(dim=-1)

    def table(self, tokenizer, position: int, batch: int = 0, k: int = 5,
              target: int | None = None) -> str:
        """One input position, layer by layer: the top ``k`` guesses and, with ``target``, its rank."""
        if position not in self.positions:
            raise ValueError(f"position {position} was not read; the lens holds positions {self.positions}")
        column = self.positions.index(position)
        probabilities, ids = self.top_k(k)
        lines = []
        for layer, label in enumerate(self.layer_labels):
            guesses = ", ".join(f"{tokenizer.decode([int(i)]).strip() or repr(tokenizer.decode([int(i)]))} "
                                f"{float(q):.2f}" for q, i in zip(probabilities[layer, batch, column],
                                                                  ids[layer, batch, column]))
            line = f"{label:<14} {guesses}"
            if target is not None:
                rank = int(self.target_rank(target)[layer, batch, column])
                probability = float(self.target_probability(target)[layer, batch, column])
                line += f"   | target rank {rank}, p={probability:.3f}"
            lines.append(line)
        return "\n".join(lines)

    def plot(self, tokenizer, batch: int = 0, target: int | torch.Tensor | None = None, title: str | None = None):
        """Heat map: layers x positions, each cell the top guess and its probability (see ``plots``)."""
        from .plots import plot_logit_lens

        return plot_logit_lens(self, tokenizer, batch=batch, target=target, title=title)


def logit_lens(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    positions: int | Sequence[int] | None = None,
    **forward_kwargs,
) -> LogitLens:
    """Read the residual stream after every layer through ``model``'s own output path.

    ``model``: a ``GPTLMHeadModel``, ``BertForMaskedLM`` or
    ``BertForPreTraining`` (also loaded from Hugging Face). ``input_ids``
    ``(b t)``; ``positions``: the input positions to read (all when
    ``None``; one or a few keep the ``(l b p v)`` result small for a large
    vocabulary). Extra keyword arguments (``attention_mask``,
    ``token_type_ids``) go to the model.
    """
    parts = model_parts(model)
    read_out = parts.require_read_out("logit_lens")
    t = input_ids.shape[-1]
    if positions is None:
        positions = list(range(t))
    positions = [positions] if isinstance(positions, int) else list(positions)
    bad = [p for p in positions if not -t <= p < t]
    if bad or not positions:
        raise IndexError(f"positions {bad or positions} do not exist in an input of {t} tokens "
                         f"(positions 0 to {t - 1}, or negative from the end)")
    positions = [p % t for p in positions]

    wanted = ["hook_embeddings", *(f"blocks.{i}.hook_resid_post" for i in range(parts.n_layers))]
    with evaluating(model):
        _, cache = run_with_cache(model, input_ids, names_filter=wanted, **forward_kwargs)
        stream = torch.stack([cache[name][:, positions] for name in wanted])  # (l b p c)
        logits = read_out(stream)
    labels = ["embeddings", *(f"after layer {i}" for i in range(parts.n_layers))]
    return LogitLens(logits, positions, input_ids, labels, parts.family)
