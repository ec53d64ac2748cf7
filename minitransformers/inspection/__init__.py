"""Seeing inside a model: cache named activations, hook into them, summarise attention.

- ``run_with_cache(model, input_ids)`` (also ``model.run_with_cache``):
  the output and an ``ActivationCache`` of every named activation.
- ``hooks(model, {name: fn})``: read or replace activations during a run.
- ``attention_rollout``, ``attention_entropy``, ``head_entropy``, ``hidden_state_similarity``:
  tensor summaries.

Names are listed in ``inspection/names.py`` and by ``hook_names(model)``.
"""

from .analysis import attention_entropy, attention_rollout, head_entropy, hidden_state_similarity
from .cache import ActivationCache, hook_names, run_with_cache
from .hooks import hooks, model_hooks, patch_from, zero_head
from .names import KIND_PATHS, UnknownNameError

__all__ = [
    "ActivationCache", "KIND_PATHS", "UnknownNameError", "attention_entropy", "attention_rollout",
    "head_entropy", "hidden_state_similarity", "hook_names", "hooks", "model_hooks", "patch_from",
    "run_with_cache", "zero_head",
]
