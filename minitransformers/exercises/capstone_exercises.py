"""The capstone: your own GPT from plain tensors, graded stage by stage against the shipped model.

The student writes the whole forward pass, ``my_gpt(ids, weights, config)``,
from the pieces of the earlier tasks (mask, attention, heads, block,
embeddings, head), with ``weights`` the shipped mini-GPT's ``state_dict()``.
It returns every stage, in order::

    [embeddings, block 0, block 1, ..., block n-1, final norm, head]   # each (b t c); the head (b t v)

The grader runs the library's model on the same ids and compares the stages
in that order, so a failure names the *first* stage that differs: everything
before it matched, so the bug is inside it. ``my_generate`` is graded on
greedy tokens, and ``my_bert`` (optional) on mini-BERT's encoder:
``[embeddings, block 0, ..., block n-1]``.

The stage names follow the shipped checkpoints' depth, read from their
``config.json`` when this module is imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, partial
from typing import Any

import torch
import torch.nn.functional as F

from ..feedforward import FeedForward
from ..masks import default_positions
from ..pretrained.known import shipped_path
from ..pretrained.report import CheckpointNotFoundError
from .exercise import Exercise, Mistake

SHIPPED_GPT, SHIPPED_BERT = "mini-gpt-shakespeare", "mini-bert-shakespeare"
# (b, t) per trial: a single short text, a batch, a long one, a batch of short ones.
_ID_SHAPES = [(1, 5), (2, 12), (1, 40), (3, 7)]
_PROMPT_LENGTHS, _NEW_TOKENS = [3, 6, 10, 1], 8


@cache
def _shipped(name: str):
    """The shipped model, loaded once (float32, eval mode); a missing one raises shipped_path's one-line error."""
    from ..models import BertModel, GPTLMHeadModel

    model_class = GPTLMHeadModel if name == SHIPPED_GPT else BertModel
    return model_class.from_pretrained(shipped_path(name)).eval()


def _n_layers(name: str, fallback: int = 6) -> int:
    """The depth of a shipped checkpoint, from its config.json (``fallback`` when it is absent)."""
    from ..pretrained.reading import read_config

    try:
        folder = shipped_path(name)
    except CheckpointNotFoundError:
        return fallback  # the grader then says, at check time, where the weights should be
    hf = read_config(folder)
    return int(hf.get("n_layer", hf.get("num_hidden_layers", fallback)))


def _inputs(name: str, g: torch.Generator, trial: int) -> dict[str, Any]:
    model = _shipped(name)
    b, t = _ID_SHAPES[trial % len(_ID_SHAPES)]
    weights = {key: value.clone() for key, value in model.state_dict().items()}  # the student's own copy
    return {"ids": torch.randint(0, model.config.vocab_size, (b, t), generator=g), "weights": weights,
            "config": model.config}


# --- the library's stages ------------------------------------------------------------------------

def _library_gpt_stages(ids, weights, config) -> tuple[torch.Tensor, ...]:
    """The shipped mini-GPT's own forward pass, read at its hook points."""
    model = _shipped(SHIPPED_GPT)
    output, activations = model.run_with_cache(ids)
    blocks = [activations["resid_post", layer] for layer in range(config.n_layers)]
    return (activations["hook_embeddings"], *blocks, output.last_hidden_state, output.logits)


def _gpt_stages_with(ids, weights, config, *, causal: bool = True, post_ln: bool = False) -> tuple[torch.Tensor, ...]:
    """The stages of a GPT built from the library's layers with one thing changed (a typical mistake)."""
    gpt = _shipped(SHIPPED_GPT)
    body = gpt.gpt
    x = body.token_embeddings(ids) + body.positional(default_positions(*ids.shape))
    stages = [x]
    for block in body.blocks:
        attention, was_causal = block.attention, block.attention.causal
        attention.causal = causal
        try:
            if post_ln:  # BERT's order: residual first, then the norm
                x = block.attention_norm(x + attention(x)[0])
                x = block.feedforward_norm(x + block.feedforward(x))
            else:
                x = x + attention(block.attention_norm(x))[0]
                x = x + block.feedforward(block.feedforward_norm(x))
        finally:
            attention.causal = was_causal
        stages.append(x)
    final = body.final_norm(x)
    return (*stages, final, gpt.lm_head(final))


@contextmanager
def _every_mlp_with(model: torch.nn.Module, activation) -> Iterator[None]:
    """The shipped ``model`` with every feed-forward's activation swapped, put back afterwards."""
    feedforwards = [module for module in model.modules() if isinstance(module, FeedForward)]
    kept = [feedforward.activation for feedforward in feedforwards]
    for feedforward in feedforwards:
        feedforward.activation = activation
    try:
        yield
    finally:
        for feedforward, original in zip(feedforwards, kept):
            feedforward.activation = original


def _gpt_stages_with_gelu(ids, weights, config, approximate: str) -> tuple[torch.Tensor, ...]:
    with _every_mlp_with(_shipped(SHIPPED_GPT), partial(F.gelu, approximate=approximate)):
        return _library_gpt_stages(ids, weights, config)


def _bert_stages_with_gelu(ids, weights, config, approximate: str) -> tuple[torch.Tensor, ...]:
    with _every_mlp_with(_shipped(SHIPPED_BERT), partial(F.gelu, approximate=approximate)):
        return _library_bert_stages(ids, weights, config)


# The two GELUs differ by up to ~1e-3: too little to see by eye, enough to fail from the first block on.
_OTHER_GELU = (
    "From block 0 on, your MLP uses {used}, while {model} uses {wanted}. The two differ by up to about "
    "0.001, so each stage is only slightly off. Use {call}."
)


def _library_greedy(ids, weights, config, n_new):
    from ..generation import generate

    # No end-of-text stop, and no cache: the student's loop reruns the whole text at every step.
    return generate(_shipped(SHIPPED_GPT), ids, max_new_tokens=n_new, eos_token_id=[], use_cache=False)


def _generate_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    inputs = _inputs(SHIPPED_GPT, g, trial)
    prompt = torch.randint(0, inputs["config"].vocab_size, (1, _PROMPT_LENGTHS[trial % 4]), generator=g)
    return {**inputs, "ids": prompt, "n_new": _NEW_TOKENS}


def _library_bert_stages(ids, weights, config) -> tuple[torch.Tensor, ...]:
    _, activations = _shipped(SHIPPED_BERT).run_with_cache(ids)
    return (activations["hook_embeddings"], *(activations["resid_post", layer] for layer in range(config.n_layers)))


def _stage_names(n_layers: int, *, gpt: bool) -> tuple[str, ...]:
    return ("embeddings", *(f"block {layer}" for layer in range(n_layers)), *(("final norm", "head") if gpt else ()))


YOUR_GPT = Exercise(
    name="your_gpt",
    statement="""Your own GPT: the shipped mini-GPT's forward pass, written with plain tensors.

    def my_gpt(ids, weights, config):
        ids (b t) token ids; weights: the shipped model's state_dict() (name -> tensor);
        config: its GPTConfig (n_layers, n_heads, layer_norm_eps)
        returns the list of every stage, in order:
          embeddings (b t c)  token embedding + position embedding
          block 0 .. block n-1 (b t c)  pre-LN decoder blocks: x + attention(norm(x)), then
                                        x + feedforward(norm(x)); causal attention, 1/sqrt(d)
          final norm (b t c)  the LayerNorm after the last block
          head (b t v)  logits: the final norm's output times the token embeddings (tied weights)
    """,
    make_inputs=lambda g, trial: _inputs(SHIPPED_GPT, g, trial),
    reference=_library_gpt_stages,
    output_names=_stage_names(_n_layers(SHIPPED_GPT), gpt=True),
    mistakes=(
        Mistake("no_causal_mask", lambda ids, weights, config: _gpt_stages_with(ids, weights, config, causal=False),
                "Your blocks let every token see the tokens after it: GPT's attention is causal. Hide the keys "
                "after each query (your causal mask) before the softmax."),
        Mistake("post_ln", lambda ids, weights, config: _gpt_stages_with(ids, weights, config, post_ln=True),
                "Your blocks are post-LN (BERT's order: residual, then norm). GPT-2 is pre-LN: "
                "x = x + attention(norm(x)), then x = x + feedforward(norm(x)), with no norm on x itself."),
        Mistake("exact_gelu", partial(_gpt_stages_with_gelu, approximate="none"), _OTHER_GELU.format(
            used="the exact GELU (x times the Gaussian CDF, with erf; F.gelu's default and BERT's)",
            model="GPT-2", wanted="the tanh approximation of it", call='F.gelu(x, approximate="tanh")')),
    ),
    n_trials=len(_ID_SHAPES),
)

YOUR_GPT_GENERATE = Exercise(
    name="your_gpt_generate",
    statement="""Greedy text from your GPT: the same tokens as the library's generate().

    def my_generate(ids, weights, config, n_new):
        ids (1 t) a prompt; returns (1 t+n_new): the prompt and n_new tokens, each the argmax of
        your model's logits at the last position, appended before the next step (no stop at end of text)
    """,
    make_inputs=_generate_inputs,
    reference=_library_greedy,
    output_names=("tokens",),
    n_trials=len(_PROMPT_LENGTHS),
)

YOUR_BERT = Exercise(
    name="your_bert",
    statement="""Optional: mini-BERT's encoder, written with plain tensors.

    def my_bert(ids, weights, config):
        ids (b t), one segment (token type 0), no padding; weights: the shipped BertModel's state_dict()
        returns [embeddings, block 0, ..., block n-1], each (b t c):
          embeddings: LayerNorm(token + position + segment embeddings)
          blocks: post-LN encoder blocks, norm(x + attention(x)) then norm(x + feedforward(x)); no mask
    """,
    make_inputs=lambda g, trial: _inputs(SHIPPED_BERT, g, trial),
    reference=_library_bert_stages,
    output_names=_stage_names(_n_layers(SHIPPED_BERT), gpt=False),
    mistakes=(
        Mistake("tanh_gelu", partial(_bert_stages_with_gelu, approximate="tanh"), _OTHER_GELU.format(
            used="GPT-2's tanh approximation of GELU", model="BERT",
            wanted="the exact GELU (x times the Gaussian CDF, with erf)", call="F.gelu(x), its default")),
    ),
    n_trials=len(_ID_SHAPES),
)

CAPSTONE = (YOUR_GPT, YOUR_GPT_GENERATE, YOUR_BERT)
