"""The optimizer and the learning-rate schedule: AdamW with two groups, warm-up then cosine.

Weight decay pulls every weight a little towards zero at each step, a prior
that says "prefer small weights". It makes sense for the large matrices that
mix features (attention and feed-forward projections). It does not for:

* **biases** — they only shift a unit's output, and shrinking them towards 0
  has no regularising meaning;
* **normalisation gains and shifts** (LayerNorm ``weight``/``bias``) — decay
  would push the gains to 0, fighting the very scale the norm restores;
* **embeddings** — a rare token's row gets a gradient only when the token
  appears, but decay shrinks it at *every* step, so rare words would fade
  away between sightings. (GPT-2's lm_head is tied to the token embedding,
  so it follows the embedding's rule.)

The rule in code: a parameter is decayed iff it has 2 or more dimensions and
is not the weight of an ``nn.Embedding``. One-dimensional parameters are
exactly the biases and the norm parameters.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Split trainable parameters into a decayed and a non-decayed AdamW group.

    Each group also carries ``"names"`` so a student can print what went where.
    """
    embedding_weights = {
        id(module.weight) for module in model.modules() if isinstance(module, nn.Embedding)
    }
    decay, no_decay, decay_names, no_decay_names = [], [], [], []
    # named_parameters() yields a tied parameter once, under its first name.
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        if parameter.ndim >= 2 and id(parameter) not in embedding_weights:
            decay.append(parameter)
            decay_names.append(name)
        else:
            no_decay.append(parameter)
            no_decay_names.append(name)
    return [
        {"params": decay, "weight_decay": weight_decay, "names": decay_names},
        {"params": no_decay, "weight_decay": 0.0, "names": no_decay_names},
    ]


FUSED_ADAMW_DEVICES = ("cpu", "cuda")  # where torch has a one-kernel AdamW


def make_optimizer(
    model: nn.Module,
    *,
    learning_rate: float,
    weight_decay: float,
    betas: tuple[float, float] = (0.9, 0.95),
    fused: bool | None = None,
) -> torch.optim.AdamW:
    """AdamW over :func:`parameter_groups`. ``betas[1] = 0.95`` (GPT-3's choice) for small batches.

    AdamW's update is a dozen elementwise operations per weight tensor.
    ``fused`` does all of them in one pass over each tensor; ``foreach`` runs
    each operation over all tensors at once, one pass per operation. Fused
    is about 3x faster on a CPU (``benchmarks/README.md``), so it is the
    default wherever torch has it (CPU, CUDA); elsewhere (Apple MPS, say)
    ``foreach``. Both are deterministic from run to run, so a resumed run
    still matches.
    """
    groups = parameter_groups(model, weight_decay)
    groups = [group for group in groups if group["params"]]
    if fused is None:
        fused = all(p.device.type in FUSED_ADAMW_DEVICES for group in groups for p in group["params"])
    implementation = {"fused": True} if fused else {"foreach": True}
    return torch.optim.AdamW(groups, lr=learning_rate, betas=betas, **implementation)


def warmup_cosine(
    step: int, *, warmup_steps: int, max_steps: int, max_lr: float, min_lr: float
) -> float:
    """The learning rate for optimizer step ``step`` (0-based).

    Linear warm-up from ``max_lr / warmup_steps`` to ``max_lr`` over the first
    ``warmup_steps`` steps (Adam's early moment estimates are noisy, so big
    early steps can wreck a fresh model), then half a cosine from ``max_lr``
    down to ``min_lr`` at ``max_steps``.

        lr |   /‾‾‾‾\\
           |  /      ‾\\_
           | /          ‾‾-- min_lr
           +-------------------- step
             warm-up   cosine
    """
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= max_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))


def make_scheduler(
    optimizer: torch.optim.Optimizer,
    *,
    warmup_steps: int,
    max_steps: int,
    min_lr_ratio: float,
) -> torch.optim.lr_scheduler.LambdaLR:
    """A torch scheduler following :func:`warmup_cosine` (as a factor of each group's lr).

    Its state is a step counter and numbers, so it saves and resumes cleanly.
    """

    def factor(step: int) -> float:
        return warmup_cosine(
            step, warmup_steps=warmup_steps, max_steps=max_steps, max_lr=1.0, min_lr=min_lr_ratio
        )

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
