"""A task model and its body: where a ``GPTLMHeadModel`` keeps its ``GPTModel``.

A task model (an LM head, a classifier) wraps a body under a fixed name
(``model.gpt``, ``model.bert``); checkpoint names, hook names and
generation's position limit are all about the body. This file imports
nothing of the package, so that the model files, ``pretrained/`` and
``inspection/`` can all use it without importing one another.
"""

from __future__ import annotations

from torch import nn

BODY_NAMES = ("bert", "gpt")  # the attribute under which a task model keeps its body


def find_body(model: nn.Module) -> tuple[nn.Module, str]:
    """The model body (``BertModel`` / ``GPTModel``) inside ``model``, and its name prefix.

    ``find_body(gpt_lm_head_model)`` is ``(model.gpt, "gpt.")``; a body is its own body, prefix ``""``.
    """
    for name in BODY_NAMES:
        body = getattr(model, name, None)
        if isinstance(body, nn.Module):
            return body, name + "."
    return model, ""
