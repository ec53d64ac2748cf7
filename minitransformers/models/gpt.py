"""mini-GPT: token + position embeddings, a stack of causal decoder blocks, a final norm, an LM head.

GPT reads left to right: its attention layers are causal (built with
``causal=True``), so token ``i`` attends only to tokens ``0..i``. So every
position can be trained at once to predict the token after it (next-token
prediction), and the same model then generates text one token at a time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..blocks import DecoderBlock
from ..config import GPTConfig
from ..hook_points import HookPoint
from ..kv_cache import KVCache, check_cache
from ..masks import default_positions, padding_mask
from ..outputs import ModelOutput
from ..positional import build_positions
from ..registry import BLOCKS, build_norm
from .base import IGNORE_INDEX, TransformerModel, check_inputs, check_positions


class GPTModel(TransformerModel):
    """The GPT decoder stack: ``input_ids (b t)`` -> ``last_hidden_state (b t c)``."""

    config_class = GPTConfig

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.token_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.positional = build_positions(config)  # LearnedPositions unless the config names another
        self.dropout = nn.Dropout(config.hidden_dropout)
        self.hook_embeddings = HookPoint()  # (b t c), the input to block 0
        # layer_config(i) is the config itself, unless global and local blocks alternate (config.global_every).
        if config.block == "decoder":
            self.blocks = nn.ModuleList(DecoderBlock(config.layer_config(i)) for i in range(config.n_layers))
        else:
            self.blocks = nn.ModuleList(
                BLOCKS.build(config.block, config=config.layer_config(i)) for i in range(config.n_layers)
            )
        # Pre-LN blocks leave the residual stream un-normalised; normalise once at the end.
        self.final_norm = build_norm(config)
        self.init_weights()

    def init_weights(self) -> None:
        """GPT-2's initialisation: like BERT's, but each residual branch's last layer is scaled
        by 1/sqrt(2 * n_layers), so the residual stream's variance does not grow with depth."""
        super().init_weights()
        std = self.config.initializer_range / (2 * self.config.n_layers) ** 0.5
        for name, parameter in self.named_parameters():
            if name.endswith(("attention.output.weight", "feedforward.contract.weight")):
                nn.init.normal_(parameter, mean=0.0, std=std)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        cache: list[KVCache] | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> ModelOutput:
        """``attention_mask`` covers cached and new tokens: shape ``(b, past + t)``.

        ``position_ids`` default to ``past, past + 1, ...``; left-padded
        batches pass their own (see ``generation``).
        """
        if cache is not None:
            check_cache(cache, self.blocks)  # one KVCache per block, filled by no other model
        past = cache[0].past_length() if cache is not None else 0
        max_positions = self.positional.max_positions
        check_inputs(input_ids, attention_mask, self.config.vocab_size, max_positions, past)
        b, t = input_ids.shape
        if position_ids is None:
            position_ids = default_positions(b, t, past, device=input_ids.device)
        else:
            position_ids = check_positions(position_ids, b, t, max_positions)
        # The attention layers are causal; the mask only hides padded keys (cached and new tokens).
        mask = None if attention_mask is None else padding_mask(attention_mask)

        x = self.dropout(self.token_embeddings(input_ids) + self.positional(position_ids))
        if HookPoint.in_use:
            x = self.hook_embeddings(x)
        hidden_states, attentions = [x], []
        for i, block in enumerate(self.blocks):
            layer_cache = cache[i] if cache is not None else None
            x, weights = block(x, mask, position_ids, layer_cache, output_attentions)
            hidden_states.append(x)
            attentions.append(weights)
        x = self.final_norm(x)
        # As in transformers, the last hidden state listed is the normalised one.
        hidden_states[-1] = x
        return ModelOutput(
            last_hidden_state=x,
            hidden_states=tuple(hidden_states) if output_hidden_states else None,
            attentions=tuple(attentions) if output_attentions else None,
            cache=cache,
        )


class GPTLMHeadModel(TransformerModel):
    """mini-GPT with its language-model head: ``input_ids (b t)`` -> next-token ``logits (b t v)``.

    The head is tied to the token embeddings: the score of word ``w`` is the
    dot product of the hidden state with ``w``'s embedding. Llama unties
    them (``config.tied_head=False``): the head then has its own matrix.
    """

    config_class = GPTConfig

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.gpt = GPTModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tied_head:
            self.lm_head.weight = self.gpt.token_embeddings.weight
        else:
            nn.init.normal_(self.lm_head.weight, mean=0.0, std=config.initializer_range)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        cache: list[KVCache] | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        only_last_position: bool = False,
    ) -> ModelOutput:
        """With ``labels`` (usually ``input_ids`` itself), the loss of predicting token ``i + 1``
        from tokens ``0..i``: the shift happens here, as in transformers.

        ``only_last_position=True`` computes logits ``(b 1 v)`` for the last position only:
        generation needs no more, and the LM head is the largest matrix product of a small model.
        The other arguments are ``GPTModel.forward``'s.
        """
        out = self.gpt(input_ids, attention_mask, position_ids, cache, output_hidden_states, output_attentions)
        hidden = out.last_hidden_state[:, -1:] if only_last_position and labels is None else out.last_hidden_state
        out.logits = self.lm_head(hidden)
        if labels is not None:
            # Position i is scored on token i + 1; the last position has no next token, so it
            # gets IGNORE_INDEX. Shifting the labels rather than slicing the logits saves a copy
            # of the step's largest tensor (b t v) in the forward and again in the backward.
            targets = F.pad(labels[:, 1:], (0, 1), value=IGNORE_INDEX)
            out.loss = F.cross_entropy(out.logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE_INDEX)
        return out

    @torch.no_grad()
    def generate(self, input_ids: torch.Tensor, **kwargs) -> torch.Tensor:
        """Continue ``input_ids (b t)``; see ``minitransformers.generation.generate`` for options."""
        from ..generation import generate

        return generate(self, input_ids, **kwargs)
