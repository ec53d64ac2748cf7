"""Direct logit attribution (GPT): how much each head and each MLP *writes* the answer into the stream.

    attribution = direct_logit_attribution(gpt, input_ids, target=id_a, foil=id_b)
    attribution.heads          # (l h b): each head's share of logit(a) - logit(b)
    attribution.total()        # equals the model's logit difference (within float error)

In a pre-LN decoder the stream after the last block is a plain *sum*: the
embeddings, plus what every attention layer added (one term per head,
through that head's slice of the output matrix, plus the layer's output
bias), plus what every MLP added. The logits are ``lm_head(final_norm(x))``.
``final_norm`` is affine once its scale ``sqrt(var(x) + eps)`` is frozen at
the value the real stream had (the usual convention, as in Elhage et al.,
2021), and the head is linear, so the logit difference splits exactly into
one term per component, plus a constant for the biases (the attention output
biases and the norm's shift). Each term is the *direct* effect only: what a
head writes that later layers then read and transform counts for those
later layers.

Why there is no such split for BERT: a post-LN encoder normalises the
*whole* stream after every sub-layer (``x = norm(x + attention(x))``), so an
early component reaches the output through ``2 * n_layers`` data-dependent
rescalings and shifts, not one; and BERT's output path starts with a dense
layer and a GELU (the MLM transform) before its LayerNorm, so the logits
are not even a linear function of the final stream. Freezing every scale
and linearising the GELU would give numbers, but numbers of an approximation,
not a decomposition that sums to the logit. For BERT ask the causal question
with activation patching (``patching.py``) instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from einops import einsum, rearrange
from torch import nn

from ..inspection import run_with_cache
from ._checks import position_index, token_ids
from .model_parts import evaluating, model_parts


@dataclass
class Attribution:
    """Each component's direct share of ``logit(target) - logit(foil)`` at one position, per input ``b``."""

    embeddings: torch.Tensor  # (b)
    heads: torch.Tensor  # (l h b)
    mlps: torch.Tensor  # (l b)
    biases: torch.Tensor  # (b): attention output biases + the final norm's shift
    logit_difference: torch.Tensor  # (b): from the model's own logits

    def total(self) -> torch.Tensor:
        """The sum of every component, ``(b)``: equal to ``logit_difference``."""
        return self.embeddings + self.heads.sum(dim=(0, 1)) + self.mlps.sum(dim=0) + self.biases

    def largest(self, n: int = 8, batch: int = 0) -> list[tuple[str, float]]:
        """The ``n`` components with the largest share (by absolute value), labelled ``L2H3``, ``L4 MLP``."""
        n_layers, n_heads, _ = self.heads.shape
        rows = [("embeddings", float(self.embeddings[batch])), ("biases", float(self.biases[batch]))]
        rows += [(f"L{i}H{j}", float(self.heads[i, j, batch])) for i in range(n_layers) for j in range(n_heads)]
        rows += [(f"L{i} MLP", float(self.mlps[i, batch])) for i in range(n_layers)]
        return sorted(rows, key=lambda row: -abs(row[1]))[:n]

    def plot(self, batch: int = 0, title: str | None = None):
        """Heat map of heads and MLPs per layer (see ``plots.plot_attribution``)."""
        from .plots import plot_attribution

        return plot_attribution(self, batch=batch, title=title)


def direct_logit_attribution(
    model: nn.Module,
    input_ids: torch.Tensor,
    target: int | torch.Tensor,
    foil: int | torch.Tensor | None = None,
    position: int = -1,
    **forward_kwargs,
) -> Attribution:
    """Split ``logit(target) - logit(foil)`` at ``position`` into embeddings, heads, MLPs and biases.

    ``model``: a ``GPTLMHeadModel`` (pre-LN, final ``nn.LayerNorm``).
    ``target`` / ``foil``: one token id, or one per input ``(b)``; without
    ``foil`` the target's logit itself is split.
    """
    parts = model_parts(model)
    parts.require_read_out("direct_logit_attribution")
    if parts.family != "gpt":
        raise TypeError(f"direct logit attribution needs a pre-LN decoder (GPT); {type(model).__name__} is a "
                        f"post-LN encoder, whose stream is renormalised after every sub-layer, so no split sums "
                        f"to its logits; use patch_activations for BERT (see interpret/attribution.py)")
    norm = parts.body.final_norm
    if not isinstance(norm, nn.LayerNorm):
        raise TypeError(f"direct_logit_attribution freezes a LayerNorm's scale; this model ends in "
                        f"{type(norm).__name__}")
    b, t = input_ids.shape
    position = position_index(position, t)
    vocab_size, device = model.lm_head.weight.shape[0], model.lm_head.weight.device
    target = token_ids(target, "target", vocab_size, (b,), "(batch,)", device)
    foil = None if foil is None else token_ids(foil, "foil", vocab_size, (b,), "(batch,)", device)
    wanted = ["hook_embeddings"] + [f"blocks.{i}.{name}" for i in range(parts.n_layers)
                                    for name in ("attention.hook_head_outputs", "hook_feedforward_out")]
    wanted.append(f"blocks.{parts.n_layers - 1}.hook_resid_post")
    with evaluating(model):
        output, cache = run_with_cache(model, input_ids, names_filter=wanted, **forward_kwargs)
        embeddings = cache["hook_embeddings"][:, position]  # (b c)
        heads, attention_biases = [], 0.0
        for block in parts.body.blocks:
            output_layer = block.attention.output
            weight = rearrange(output_layer.weight, "c (h d) -> h d c", h=parts.n_heads)
            head_outputs = cache[f"blocks.{len(heads)}.attention.hook_head_outputs"][:, :, position]  # (b h d)
            heads.append(einsum(head_outputs, weight, "b h d, h d c -> h b c"))
            if output_layer.bias is not None:
                attention_biases = attention_biases + output_layer.bias
        heads = torch.stack(heads)  # (l h b c)
        mlps = torch.stack([cache[f"blocks.{i}.hook_feedforward_out"][:, position]
                            for i in range(parts.n_layers)])  # (l b c)
        biases = torch.zeros_like(embeddings) + attention_biases  # (b c)
        final = cache[f"blocks.{parts.n_layers - 1}.hook_resid_post"][:, position]  # (b c)
        _check_sum(final, embeddings + heads.sum(dim=(0, 1)) + mlps.sum(dim=0) + biases)

        # final_norm(x) = (x - mean(x)) / scale * gamma + beta, with scale frozen at the real stream's.
        scale = (final.var(dim=-1, unbiased=False, keepdim=True) + norm.eps).sqrt()  # (b 1)
        unembedding = model.lm_head.weight[target] - (model.lm_head.weight[foil] if foil is not None else 0.0)  # (b c)

        def direct(component: torch.Tensor) -> torch.Tensor:  # (... b c) -> (... b)
            centred = component - component.mean(dim=-1, keepdim=True)
            return einsum(centred / scale * norm.weight, unembedding, "... b c, b c -> ... b")

        shift = einsum(norm.bias if norm.bias is not None else torch.zeros_like(norm.weight), unembedding,
                       "c, b c -> b")
        logits = output.logits[:, position]  # the model's own logits: what the split must add up to
        rows = torch.arange(b, device=logits.device)
        difference = logits[rows, target] - (logits[rows, foil] if foil is not None else 0.0)
        return Attribution(direct(embeddings), direct(heads), direct(mlps), direct(biases) + shift, difference)


def _check_sum(final: torch.Tensor, parts_sum: torch.Tensor) -> None:
    """The stream must be the sum of the parts; a block that adds something else has no such split."""
    error = float((final - parts_sum).abs().max())
    if error > 1e-3 * max(1.0, float(final.abs().max())):
        raise ValueError(f"the final residual stream differs from embeddings + heads + MLPs + biases by {error:.2e}; "
                         f"direct_logit_attribution supports the library's DecoderBlock (x + attention + MLP)")
