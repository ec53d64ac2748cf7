"""Looking inside BERT and GPT with the same calls: logit lens, patching, attribution, head detectors.

- ``logit_lens(model, ids)``: what the model would predict after each layer,
  read through its own output path (``logit_lens.py``).
- ``patch_activations(model, clean, corrupted, metric, kind=...)``: which
  activations carry the difference between two inputs (``patching.py``),
  scored by a metric such as ``logit_difference`` (``metrics.py``).
- ``direct_logit_attribution(gpt, ids, target, foil)``: each head's and
  MLP's direct share of a logit difference, GPT only (``attribution.py``
  says why BERT has none).
- ``attention_patterns`` and the ``*_scores`` detectors: previous-token,
  next-token, sink and induction heads, ``(layers, heads)``
  (``head_detectors.py``).

Built on ``inspection`` (the activation cache and hooks). Pictures:
``plots.py`` (imported on demand: it pulls in matplotlib).
"""

from .attribution import Attribution, direct_logit_attribution
from .head_detectors import (
    attention_patterns, induction_scores, next_token_scores, previous_token_scores, repeated_random_tokens,
    sink_scores,
)
from .logit_lens import LogitLens, logit_lens
from .model_parts import ModelParts, model_parts
from .metrics import LogitDifference, logit_difference
from .patching import Patch, PatchingResult, patch_activations, patch_one

__all__ = [
    "Attribution", "LogitDifference", "LogitLens", "ModelParts", "Patch", "PatchingResult", "attention_patterns",
    "direct_logit_attribution", "induction_scores", "logit_difference", "logit_lens", "model_parts",
    "next_token_scores", "patch_activations", "patch_one", "previous_token_scores", "repeated_random_tokens",
    "sink_scores",
]
