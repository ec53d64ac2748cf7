"""What a resume checks before it continues a run: the same model, and the same training settings.

A checkpoint's weights fit any model whose tensors have the same shapes, and
shapes do not say everything: 2 heads of size 32 and 4 heads of size 16 share
every matrix, and so do GELU and ReLU. Loading into the other model succeeds
and trains something else from there. So a checkpoint stores the model's
config, and a resume compares it field by field:

* another **architecture** (heads, activation, norm, sizes...) is an error
  that lists the fields;
* other **training settings** (the train config, or a model's dropout and
  attention kernel) are a warning: the run goes on, but will not match an
  uninterrupted one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

# Model config fields a resume may change: they change how the run trains, not what the weights mean.
TRAINING_ONLY_MODEL_FIELDS = frozenset(
    {"hidden_dropout", "attention_dropout", "classifier_dropout", "attn_impl", "initializer_range"}
)
# Train config fields that change no number of the run.
BOOKKEEPING_FIELDS = frozenset({"output_dir", "progress", "eval_every", "log_every", "checkpoint_every", "compile"})
_ABSENT = "(absent)"


def model_config(model: nn.Module) -> dict[str, Any] | None:
    """``model.config.to_dict()``, the architecture as plain data; None for a model without one.

    A config with an unregistered component cannot be written by name, so it
    is not saved either: such a run resumes unchecked, as before.
    """
    config = getattr(model, "config", None)
    if not hasattr(config, "to_dict"):
        return None
    try:
        return config.to_dict()
    except ValueError:
        return None


def _differing(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    # Only the saved fields: a field added to a config class since then is no change of this run.
    return sorted(key for key, value in saved.items() if current.get(key, _ABSENT) != value)


def check_resume(state: dict[str, Any], model: nn.Module, train_config: dict[str, Any], path: str | Path) -> list[str]:
    """Refuse to resume ``model`` from checkpoint ``state`` of another architecture.

    Returns the settings that changed but may (model fields as ``model.<field>``),
    for the caller to warn about. Checkpoints saved before model configs were
    stored have none, and are checked by their tensor shapes only.
    """
    saved_model, current_model = state.get("model_config"), model_config(model)
    changed = []
    if saved_model is not None and current_model is not None:
        fields = _differing(saved_model, current_model)
        architecture = [field for field in fields if field not in TRAINING_ONLY_MODEL_FIELDS]
        if architecture:
            listing = "; ".join(f"{field} is {saved_model[field]!r} there and "
                                f"{current_model.get(field, _ABSENT)!r} here" for field in architecture)
            raise ValueError(
                f"the checkpoint {path} holds a model of another architecture or size than this one ({listing}); "
                f"resume with the model settings it was trained with, or start a new run in another "
                f"output folder"
            )
        changed += [f"model.{field}" for field in fields]
    changed += [field for field in _differing(state["config"], train_config) if field not in BOOKKEEPING_FIELDS]
    return changed
