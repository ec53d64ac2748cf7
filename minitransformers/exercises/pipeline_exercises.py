"""Exercises on what surrounds the blocks: positions going in, BERT's masking rule for training,
a sampling step and pooling coming out."""

from __future__ import annotations

from typing import Any

import torch
from einops import rearrange

from ..components.sinusoidal import sinusoidal_vectors
from ..data.mlm import IGNORE_INDEX
from ..generation.sampling import apply_temperature, top_k_filter
from ..inference.embeddings import pool
from .exercise import Exercise, Mistake, randn

# --- sinusoidal positions ------------------------------------------------------------------------

def _positions_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    t, c = [(5, 8), (3, 4), (7, 6), (2, 16)][trial % 4]
    return {"t": t, "c": c}


def _sinusoidal(t: int, c: int, interleave=True, exponent_scale=2.0, sin_first=True) -> torch.Tensor:
    """Sinusoidal positions with one thing changed, for the typical mistakes."""
    f = torch.arange(c // 2, dtype=torch.float32)
    angles = rearrange(torch.arange(t, dtype=torch.float32), "t -> t 1") * 10000.0 ** (-exponent_scale * f / c)
    first, second = (angles.sin(), angles.cos()) if sin_first else (angles.cos(), angles.sin())
    if interleave:
        return rearrange(torch.stack([first, second], dim=-1), "t f two -> t (f two)")
    return torch.cat([first, second], dim=-1)


SINUSOIDAL_POSITIONS = Exercise(
    name="sinusoidal_positions",
    statement="""The fixed position vectors of "Attention Is All You Need" (a position scheme).

    def sinusoidal_positions(t, c):
        t: number of positions, c: model width (even)
        returns (t c): for position p and pair f = 0 .. c/2 - 1, with w_f = 10000 ** (-2 f / c),
        out[p, 2f] = sin(p * w_f) and out[p, 2f + 1] = cos(p * w_f)  (sin and cos interleaved)
    """,
    make_inputs=_positions_inputs,
    reference=lambda t, c: sinusoidal_vectors(rearrange(torch.arange(t), "t -> 1 t"), c)[0],
    output_names=("positions",),
    mistakes=(
        Mistake("concatenated", lambda t, c: _sinusoidal(t, c, interleave=False),
                "You put all the sines first and all the cosines after (torch.cat). The pairs are "
                "interleaved: column 2f is sin, column 2f + 1 is its cos."),
        Mistake("exponent_without_2", lambda t, c: _sinusoidal(t, c, exponent_scale=1.0),
                "Your speeds are 10000 ** (-f / c); the exponent is -2f / c (f counts pairs, and 2f is the "
                "column of the pair's sine)."),
        Mistake("cos_first", lambda t, c: _sinusoidal(t, c, sin_first=False),
                "Sine and cosine are swapped: the even columns (2f) hold sin, the odd ones cos."),
    ),
)


# --- BERT's masking rule (80 / 10 / 10) ----------------------------------------------------------

def _mlm_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, t = [(2, 12), (1, 20), (3, 8), (2, 16)][trial % 4]
    vocab_size = 50
    input_ids = torch.randint(5, vocab_size, (b, t), generator=g)
    selected = torch.rand(b, t, generator=g) < 0.4  # more than 15%, so that every case shows up
    return {
        "input_ids": input_ids,
        "selected": selected,
        "fate": torch.rand(b, t, generator=g),
        "random_ids": torch.randint(vocab_size, (b, t), generator=g),
        "mask_token_id": 4,
    }


def apply_mlm_rule(input_ids, selected, fate, random_ids, mask_token_id, mask_share=0.8, random_share=0.1,
                   label_everything=False, random_last=False):
    """BERT's rule given the random draws, as ``data.mlm.mask_tokens`` applies it (tests check they agree).

    ``random_last`` gives the random tokens the last ``random_share`` of fates instead of the ones
    right after the mask's: the kept and random cases swapped, a typical mistake.
    """
    to_mask = selected & (fate < mask_share)
    random_from = 1.0 - random_share if random_last else mask_share
    to_random = selected & (fate >= random_from) & (fate < random_from + random_share)
    masked_ids = torch.where(to_mask, mask_token_id, torch.where(to_random, random_ids, input_ids))
    labels = input_ids.clone() if label_everything else torch.where(selected, input_ids, IGNORE_INDEX)
    return masked_ids, labels


def _labels_of_masked_ids(input_ids, selected, fate, random_ids, mask_token_id):
    masked_ids, _ = apply_mlm_rule(input_ids, selected, fate, random_ids, mask_token_id)
    return masked_ids, torch.where(selected, masked_ids, IGNORE_INDEX)


MLM_MASKING = Exercise(
    name="mlm_masking",
    statement="""BERT's masking rule, with the random draws given to you.

    def mlm_masking(input_ids, selected, fate, random_ids, mask_token_id):
        input_ids: (b t) token ids; selected: bool (b t), the tokens chosen for prediction (15%)
        fate: (b t) uniform numbers in [0, 1), one per token; random_ids: (b t) random token ids
        returns (masked_ids (b t), labels (b t)):
        a selected token becomes mask_token_id if fate < 0.8, random_ids if 0.8 <= fate < 0.9,
        and stays as it is otherwise; labels hold the *original* id of every selected token
        and -100 (ignored by the loss) everywhere else.
    """,
    make_inputs=_mlm_inputs,
    reference=apply_mlm_rule,
    output_names=("masked_ids", "labels"),
    mistakes=(
        Mistake("always_mask", lambda *a: apply_mlm_rule(*a, mask_share=1.0, random_share=0.0),
                "You replaced every selected token by the mask token. BERT keeps 10% unchanged and puts a "
                "random token in 10%, so that the model also learns from tokens it can see."),
        Mistake("labels_everywhere", lambda *a: apply_mlm_rule(*a, label_everything=True),
                "Your labels hold an id at every position; only the selected tokens are predicted, every "
                "other label must be -100 so that the loss ignores it."),
        Mistake("labels_of_masked_ids", _labels_of_masked_ids,
                "Your labels are the ids *after* masking (often the mask token itself); the label is what "
                "the model must recover: the original id from input_ids."),
        Mistake("random_and_kept_swapped", lambda *a: apply_mlm_rule(*a, random_last=True),
                "You swapped the two 10% cases: a selected token with 0.8 <= fate < 0.9 must become "
                "random_ids, and one with fate >= 0.9 stays as it is. Yours does the opposite."),
        Mistake("no_random_tokens", lambda *a: apply_mlm_rule(*a, random_share=0.0),
                "You never use random_ids: a selected token with 0.8 <= fate < 0.9 must become "
                "random_ids at that position."),
    ),
)


# --- a sampling step -----------------------------------------------------------------------------

def _sampling_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, v, temperature, top_k = [(2, 10, 0.7, 3), (1, 7, 1.5, 1), (3, 12, 1.0, 5), (2, 5, 0.5, 5)][trial % 4]
    return {"logits": randn(g, b, v) * 2, "temperature": temperature, "top_k": top_k}


def _library_probabilities(logits, temperature, top_k):
    return torch.softmax(top_k_filter(apply_temperature(logits, temperature), top_k), dim=-1)


def _top_k_after_softmax(logits, temperature, top_k):
    probabilities = torch.softmax(logits / temperature, dim=-1)
    kept = torch.topk(probabilities, top_k, dim=-1).indices
    return torch.zeros_like(probabilities).scatter(-1, kept, probabilities.gather(-1, kept))


SAMPLING_STEP = Exercise(
    name="sampling_step",
    statement="""The distribution one sampling step draws the next token from.

    def next_token_probabilities(logits, temperature, top_k):
        logits: next-token scores (b v); temperature > 0; top_k: how many tokens to keep
        returns probabilities (b v): divide the logits by the temperature, keep the top_k
        highest per row (the others get probability exactly 0), softmax; each row sums to 1.
        (torch.multinomial(probabilities, 1) would then draw the token.)
    """,
    make_inputs=_sampling_inputs,
    reference=_library_probabilities,
    output_names=("probabilities",),
    mistakes=(
        Mistake("temperature_multiplied", lambda logits, temperature, top_k: _library_probabilities(
            logits * temperature * temperature, temperature, top_k),
                "You multiplied the logits by the temperature; divide them: a temperature below 1 must "
                "make the distribution sharper."),
        Mistake("no_temperature", lambda logits, temperature, top_k: _library_probabilities(logits, 1.0, top_k),
                "Your probabilities ignore the temperature: divide the logits by it before the softmax."),
        Mistake("top_k_not_renormalised", _top_k_after_softmax,
                "You kept the top_k probabilities of the full softmax, so the row no longer sums to 1. "
                "Remove the other tokens from the *logits* (set them to -inf), then take the softmax."),
        Mistake("no_top_k", lambda logits, temperature, top_k: torch.softmax(logits / temperature, dim=-1),
                "Every token still has a probability above 0: keep only the top_k highest logits of each row "
                "and give the others -inf before the softmax."),
    ),
)


# --- pooling token vectors into one sentence vector ----------------------------------------------

def _pooling_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, t, c = [(3, 5, 4), (2, 7, 3), (4, 4, 6), (1, 6, 2)][trial % 4]
    lengths = torch.randint(1, t + 1, (b,), generator=g)
    lengths[0] = max(1, t - 2)  # at least one padded sentence
    return {"hidden_states": randn(g, b, t, c),
            "attention_mask": (torch.arange(t) < rearrange(lengths, "b -> b 1")).long()}


MEAN_POOLING = Exercise(
    name="mean_pooling",
    statement="""Mean pooling: one vector per sentence, the average of its real tokens' vectors.

    def mean_pooling(hidden_states, attention_mask):
        hidden_states: (b t c); attention_mask: (b t), 1 = real token, 0 = padding (on the right)
        returns (b c): for each sentence, the mean over its real tokens only (padding excluded)
    """,
    make_inputs=_pooling_inputs,
    reference=lambda hidden_states, attention_mask: pool(hidden_states, attention_mask, "mean"),
    output_names=("pooled",),
    mistakes=(
        Mistake("padding_included", lambda hidden_states, attention_mask: hidden_states.mean(dim=1),
                "You averaged over every position, padding included: a sentence's vector would change with "
                "the length of the longest sentence in its batch. Average over real tokens only."),
        Mistake("sum_not_mean", lambda hidden_states, attention_mask: (
            hidden_states * attention_mask[..., None]).sum(dim=1),
                "You summed the real tokens' vectors without dividing by their number "
                "(attention_mask.sum(1))."),
        Mistake("divided_by_t", lambda hidden_states, attention_mask: (
            hidden_states * attention_mask[..., None]).sum(dim=1) / hidden_states.shape[1],
                "You divided by t, the padded length; divide by each sentence's number of real tokens, "
                "attention_mask.sum(1, keepdim=True)."),
    ),
)

LAST_TOKEN_POOLING = Exercise(
    name="last_token_pooling",
    statement="""Last-token pooling, for GPT: only the last token has read the whole sentence.

    def last_token_pooling(hidden_states, attention_mask):
        hidden_states: (b t c); attention_mask: (b t), 1 = real token, 0 = padding (on the right)
        returns (b c): for each sentence, the vector of its last *real* token
    """,
    make_inputs=_pooling_inputs,
    reference=lambda hidden_states, attention_mask: pool(hidden_states, attention_mask, "last"),
    output_names=("pooled",),
    mistakes=(
        Mistake("last_position", lambda hidden_states, attention_mask: hidden_states[:, -1],
                "You took the last *position*, which is padding for the shorter sentences; take each "
                "sentence's last real token, at index attention_mask.sum(1) - 1."),
        Mistake("first_token", lambda hidden_states, attention_mask: hidden_states[:, 0],
                "You took the first token; in a causal model it has seen only itself. Take the last real "
                "token, the only one that has read the whole sentence."),
        Mistake("off_by_one", lambda hidden_states, attention_mask: hidden_states[
            torch.arange(hidden_states.shape[0]), attention_mask.sum(1).clamp(max=hidden_states.shape[1] - 1)],
                "Off by one: with n real tokens the last one is at index n - 1 (attention_mask.sum(1) - 1)."),
    ),
)
