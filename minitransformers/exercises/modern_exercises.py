"""Exercises on two of Llama's parts (notebook 7b): RMSNorm, and rotary embedding of queries and keys."""

from __future__ import annotations

from typing import Any

import torch
from einops import rearrange

from ..components.rmsnorm import RMSNorm
from ..components.rotary import RotaryPositions
from .exercise import Exercise, Mistake, randn

# --- RMSNorm -------------------------------------------------------------------------------------

# Sizes per trial: (b, t, c, eps). t != c catches the wrong axis. The first trial's tiny eps lets
# the mistakes that do not involve eps show there, whatever the student did with eps; the large
# ones (0.1, 0.5) make a misplaced or missing eps visible.
RMS_SIZES = [(2, 3, 8, 1e-6), (1, 5, 12, 0.1), (3, 4, 6, 1e-5), (2, 2, 10, 0.5)]


def _rms_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, t, c, eps = RMS_SIZES[trial % len(RMS_SIZES)]
    # Each token gets its own offset, as residual streams do: a subtracted mean then shows.
    x = randn(g, b, t, c) * 1.5 + randn(g, b, t, 1)
    return {"x": x, "weight": randn(g, c) * 0.5 + 1.0, "eps": eps}


def _library_rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    norm = RMSNorm(x.shape[-1], eps=eps)
    with torch.no_grad():
        norm.weight.copy_(weight)
    return norm(x)


def _mean_square(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    return x.pow(2).mean(dim=dim, keepdim=True)


def _layer_norm_without_shift(x, weight, eps):
    centred = x - x.mean(dim=-1, keepdim=True)
    return centred / torch.sqrt(_mean_square(centred) + eps) * weight


RMS_NORM = Exercise(
    name="rms_norm",
    statement="""RMSNorm, Llama's norm: LayerNorm without the centring and the shift.

    def rms_norm(x, weight, eps):
        x (b t c), weight (c), eps a small float
        returns (b t c): each token vector divided by its root mean square, times weight:
        x / sqrt(mean over c of x^2 + eps) * weight
    """,
    make_inputs=_rms_inputs,
    reference=_library_rms_norm,
    output_names=("normalised",),
    mistakes=(
        Mistake("mean_subtracted", _layer_norm_without_shift,
                "You subtracted each token's mean first: that is LayerNorm (without its shift). RMSNorm "
                "does not centre: divide x itself by the root of the mean of its squares."),
        Mistake("divided_by_std", lambda x, weight, eps: x / (x.std(dim=-1, keepdim=True) + eps) * weight,
                "You divided by the standard deviation, which subtracts the mean inside it. The RMS is the "
                "root of the mean of the squares of x itself: sqrt(mean(x^2) + eps)."),
        Mistake("sum_not_mean",
                lambda x, weight, eps: x / torch.sqrt(x.pow(2).sum(dim=-1, keepdim=True) + eps) * weight,
                "You divided by the length of the vector (the root of the *sum* of the squares). RMSNorm "
                "takes the *mean* of the squares over the c numbers, so the result has an RMS of 1, not a "
                "length of 1."),
        Mistake("wrong_axis", lambda x, weight, eps: x / torch.sqrt(_mean_square(x, dim=1) + eps) * weight,
                "You took the mean over the tokens axis. RMSNorm normalises each token vector on its own: "
                "the mean runs over the last axis, c."),
        Mistake("weight_forgotten", lambda x, weight, eps: x / torch.sqrt(_mean_square(x) + eps),
                "The normalised vectors are not multiplied by weight: the learned scale, one number per "
                "channel, comes last."),
        Mistake("eps_outside_sqrt", lambda x, weight, eps: x / (torch.sqrt(_mean_square(x)) + eps) * weight,
                "You added eps after the square root. The library (and Llama) add it inside, to the mean "
                "of the squares: sqrt(mean(x^2) + eps)."),
        Mistake("eps_forgotten", lambda x, weight, eps: x / torch.sqrt(_mean_square(x)) * weight,
                "You left eps out. It keeps a vector of zeros from being divided by zero: add it to the "
                "mean of the squares, inside the square root."),
    ),
)


# --- rotary embedding of queries and keys --------------------------------------------------------

# Sizes per trial: (b, h, g, t, d, start, base). Keys have g <= h heads (grouped-query attention).
# The first trial starts at position 0, so the offset shows from the second on; the second is one
# generation step after 7 cached tokens; the third has an odd number of pairs and another base.
ROTARY_SIZES = [(2, 4, 2, 5, 8, 0, 10000.0), (1, 2, 1, 1, 16, 7, 10000.0), (3, 2, 2, 4, 6, 3, 500.0),
                (2, 3, 1, 3, 4, 10, 10000.0)]


def _rotary_inputs(g: torch.Generator, trial: int) -> dict[str, Any]:
    b, h, kv_heads, t, d, start, base = ROTARY_SIZES[trial % len(ROTARY_SIZES)]
    return {"q": randn(g, b, h, t, d), "k": randn(g, b, kv_heads, t, d), "start": start, "base": base}


def _positions(x: torch.Tensor, start: int) -> torch.Tensor:
    """``(b t)``: the positions of the ``t`` new tokens, after ``start`` cached ones."""
    return torch.arange(start, start + x.shape[2]).expand(x.shape[0], -1)


def _library_rotary(q: torch.Tensor, k: torch.Tensor, start: int, base: float):
    rotary = RotaryPositions(q.shape[-1], max_positions=None, n_heads=1, base=base)  # one head of size d
    return rotary.rotate(q, k, _positions(q, start))


def _turn(x: torch.Tensor, start: int, base: float, *, halves: bool = False, exponent: float = 2.0,
          direction: float = 1.0) -> torch.Tensor:
    """Rotary embedding with one thing changed, for the mistakes below."""
    d = x.shape[-1]
    speeds = base ** (-exponent * torch.arange(d // 2) / d)
    angles = direction * _positions(x, start)[:, None, :, None] * speeds  # (b 1 t f)
    layout = "(two f)" if halves else "(f two)"  # halves: f pairs with f + d/2; else neighbours
    first, second = rearrange(x, f"b h t {layout} -> two b h t f", two=2)
    turned = torch.stack([first * angles.cos() - second * angles.sin(), first * angles.sin() + second * angles.cos()])
    return rearrange(turned, f"two b h t f -> b h t {layout}")


ROTARY = Exercise(
    name="rotary",
    statement="""Rotary position embedding (RoPE) of queries and keys, as in Llama.

    def rotary(q, k, start, base):
        q (b h t d), k (b g t d): the queries and keys of t new tokens (g key heads, g <= h)
        start: how many tokens came before them (0 for a prompt; the KV cache's length when generating)
        base: the rotary base (10000 in the original paper)
        returns (q, k), each of its input's shape: the token at position p = start + i turns each
        neighbouring pair (x[2f], x[2f + 1]) of every head by the angle p * base ** (-2f / d):
        (x cos a - y sin a, x sin a + y cos a)
    """,
    make_inputs=_rotary_inputs,
    reference=_library_rotary,
    output_names=("q", "k"),
    mistakes=(
        Mistake("pairs_are_halves", lambda q, k, start, base: (_turn(q, start, base, halves=True),
                                                               _turn(k, start, base, halves=True)),
                "You paired number f with number f + d/2 (the 'rotate half' layout of Hugging Face's Llama "
                "code). The library pairs neighbours, (0, 1), (2, 3), ...: both are rotary embeddings, but "
                "weights trained for one layout give wrong scores in the other."),
        Mistake("positions_not_offset", lambda q, k, start, base: (_turn(q, 0, base), _turn(k, 0, base)),
                "Your positions start at 0, but these t tokens come after start tokens already in the KV "
                "cache: token i sits at position start + i. Without the offset every new token is turned "
                "as if it were the first, and generation with the cache no longer matches a full forward."),
        Mistake("speeds_without_two", lambda q, k, start, base: (_turn(q, start, base, exponent=1.0),
                                                                 _turn(k, start, base, exponent=1.0)),
                "Your speeds use the exponent -f/d. Pair f turns at base ** (-2f / d): the last pair is "
                "then nearly still, as the slowest hand of the clock."),
        Mistake("turned_backwards", lambda q, k, start, base: (_turn(q, start, base, direction=-1.0),
                                                               _turn(k, start, base, direction=-1.0)),
                "You turned the pairs the other way. A turn by the angle a takes (x, y) to "
                "(x cos a - y sin a, x sin a + y cos a)."),
        Mistake("keys_not_turned", lambda q, k, start, base: (_turn(q, start, base), k),
                "The keys are not turned. Both queries and keys turn: their dot product then depends only "
                "on the distance between the two positions."),
        Mistake("base_ignored", lambda q, k, start, base: (_turn(q, start, 10000.0), _turn(k, start, 10000.0)),
                "You used the base 10000 whatever base was given. It is the usual value, but Llama 3, for "
                "one, uses 500000: use the argument."),
    ),
)
