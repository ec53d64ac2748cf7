"""Worked examples of pluggable components.

Each file is one idea, small enough to read in one go, and each has a name
a config can use (listed in ``registry.py``; nothing needs importing first):

============================  ===============  =====================
file                          registry         name
============================  ===============  =====================
``sinusoidal.py``             POSITIONALS      ``"sinusoidal"``
``rotary.py``                 POSITIONALS      ``"rotary"`` (acts inside attention)
``alibi.py``                  POSITIONALS      ``"alibi"`` (acts inside attention)
``rmsnorm.py``                NORMS            ``"rmsnorm"``
``swiglu.py``                 FEEDFORWARDS     ``"swiglu"``
``geglu.py``                  FEEDFORWARDS     ``"geglu"``
``grouped_query.py``          ATTENTIONS       ``"grouped_query"``, ``"multi_query"``
``sliding_window.py``         ATTENTIONS       ``"sliding_window"``
============================  ===============  =====================

Example: ``GPTConfig.preset("tiny", positional="rotary", norm="rmsnorm", feedforward="swiglu")``.
"""

from .alibi import ALiBiPositions, alibi_slopes
from .geglu import GeGLUFeedForward
from .grouped_query import GroupedQueryAttention, grouped_query, multi_query
from .rmsnorm import RMSNorm
from .rotary import RotaryPositions, rotate_pairs
from .sinusoidal import SinusoidalPositions, sinusoidal_vectors
from .sliding_window import SlidingWindowAttention, window_mask
from .swiglu import SwiGLUFeedForward

__all__ = [
    "ALiBiPositions", "GeGLUFeedForward", "GroupedQueryAttention", "RMSNorm", "RotaryPositions", "SinusoidalPositions",
    "SlidingWindowAttention", "SwiGLUFeedForward", "alibi_slopes", "grouped_query", "multi_query", "rotate_pairs",
    "sinusoidal_vectors", "window_mask",
]
