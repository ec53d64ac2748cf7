"""Training: one loop (Trainer) with AdamW, warm-up + cosine, checkpoints and DDP."""

from minitransformers.training.checkpoint import load_checkpoint, save_checkpoint
from minitransformers.training.config import TrainConfig
from minitransformers.training.distributed import (
    DistributedContext,
    cleanup_distributed,
    setup_distributed,
)
from minitransformers.training.optim import (
    make_optimizer,
    make_scheduler,
    parameter_groups,
    warmup_cosine,
)
from minitransformers.training.seeding import seed_everything
from minitransformers.training.trainer import Trainer

__all__ = [
    "DistributedContext",
    "TrainConfig",
    "Trainer",
    "cleanup_distributed",
    "load_checkpoint",
    "make_optimizer",
    "make_scheduler",
    "parameter_groups",
    "save_checkpoint",
    "seed_everything",
    "setup_distributed",
    "warmup_cosine",
]
