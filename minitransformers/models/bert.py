"""mini-BERT: token + position + segment embeddings, a stack of encoder blocks, and a pooler.

BERT reads the whole sentence at once: every token attends to every other
real token (only padding is masked). That is why it cannot generate text
left to right, and why it is pre-trained by filling in blanks (masked
language modelling, ``bert_heads.py``) instead of predicting the next word.
"""

from __future__ import annotations

import torch
from torch import nn

from ..blocks import EncoderBlock
from ..config import BertConfig
from ..hook_points import HookPoint
from ..masks import default_positions, padding_mask
from ..outputs import ModelOutput
from ..positional import build_positions
from ..registry import BLOCKS, build_norm
from .base import TransformerModel, check_ids, check_inputs, check_positions


class BertEmbeddings(nn.Module):
    """``input_ids (b t)`` -> ``(b t c)``: token + position + segment vectors, normalised.

    The segment ("token type") embedding tells sentence A from sentence B in
    a pair, which next-sentence prediction needs.
    """

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.token_embeddings = nn.Embedding(
            config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id
        )
        self.positional = build_positions(config)  # LearnedPositions unless the config names another
        # ModernBERT has no segments (type_vocab_size=0), so no table for them.
        self.segment_embeddings = (
            nn.Embedding(config.type_vocab_size, config.hidden_size) if config.type_vocab_size else None
        )
        self.norm = build_norm(config)
        self.dropout = nn.Dropout(config.hidden_dropout)

    def forward(
        self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, positions: torch.Tensor
    ) -> torch.Tensor:
        x = self.token_embeddings(input_ids)
        if self.segment_embeddings is not None:
            x = x + self.segment_embeddings(token_type_ids)
        x = x + self.positional(positions)
        return self.dropout(self.norm(x))


class BertPooler(nn.Module):
    """``(b t c)`` -> ``(b c)``: the ``[CLS]`` token's vector through a dense layer and tanh."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden_states[:, 0]))


class BertModel(TransformerModel):
    """The BERT encoder: ``input_ids (b t)`` -> ``last_hidden_state (b t c)`` and ``pooler_output (b c)``."""

    config_class = BertConfig

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.hook_embeddings = HookPoint()  # (b t c), the input to block 0
        # layer_config(i) is the config itself, unless global and local blocks alternate (ModernBERT).
        if config.block == "encoder":
            self.blocks = nn.ModuleList(EncoderBlock(config.layer_config(i)) for i in range(config.n_layers))
        else:
            self.blocks = nn.ModuleList(
                BLOCKS.build(config.block, config=config.layer_config(i)) for i in range(config.n_layers)
            )
        self.final_norm = None
        if getattr(self.blocks[0], "pre_ln", False):
            # Pre-LN blocks (ModernBERT) leave the residual stream un-normalised: one norm at the end, as
            # in GPT. The embeddings are normalised already, so ModernBERT's first block skips its own.
            self.blocks[0].attention_norm = nn.Identity()
            self.final_norm = build_norm(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.init_weights()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> ModelOutput:
        config = self.config
        max_positions = self.embeddings.positional.max_positions
        check_inputs(input_ids, attention_mask, config.vocab_size, max_positions)
        b, t = input_ids.shape
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        else:
            if tuple(token_type_ids.shape) != (b, t):
                raise ValueError(
                    f"token_type_ids has shape {tuple(token_type_ids.shape)}, expected {(b, t)} like input_ids"
                )
            if config.type_vocab_size == 0:
                raise ValueError("token_type_ids given, but this model has no segment embeddings "
                                 "(type_vocab_size=0, as ModernBERT): leave token_type_ids out")
            check_ids("token_type_ids", token_type_ids, config.type_vocab_size, "the segment ids")
        if position_ids is None:
            positions = default_positions(b, t, device=input_ids.device)
        else:
            positions = check_positions(position_ids, b, t, max_positions)
        # Bidirectional: every query sees every key, except padded keys.
        mask = None if attention_mask is None else padding_mask(attention_mask)

        x = self.embeddings(input_ids, token_type_ids, positions)
        if HookPoint.in_use:
            x = self.hook_embeddings(x)
        hidden_states, attentions = [x], []
        for block in self.blocks:
            x, weights = block(x, mask, positions, output_attentions=output_attentions)
            hidden_states.append(x)
            attentions.append(weights)
        if self.final_norm is not None:
            x = self.final_norm(x)
            hidden_states[-1] = x  # as in GPT: the last hidden state listed is the normalised one
        return ModelOutput(
            last_hidden_state=x,
            pooler_output=self.pooler(x) if self.pooler is not None else None,
            hidden_states=tuple(hidden_states) if output_hidden_states else None,
            attentions=tuple(attentions) if output_attentions else None,
        )
