"""Data-parallel training on several processes: what changes, and how to launch it.

With ``DistributedDataParallel`` (DDP) every process holds a full copy of
the model. At each step each process takes its own, disjoint share of the
global batch, computes gradients, and DDP averages the gradients of all
processes (an all-reduce) before the optimizer step — so every copy takes
the same step and the copies never drift apart. The result matches one
process training on the whole global batch.

Running on several GPUs and machines
------------------------------------
The same script runs alone (``python train.py``) or under ``torchrun``,
which starts the processes and tells each one who it is through the
environment variables ``RANK`` (0..N-1 over all machines), ``WORLD_SIZE`` (N)
and ``LOCAL_RANK`` (which GPU on this machine). :func:`setup_distributed`
reads them; without them it is a single process.

One machine, 4 GPUs::

    torchrun --standalone --nproc_per_node=4 train.py --config gpt-mini.json

Two machines with 8 GPUs each (run on both; ``--node_rank`` 0 and 1)::

    torchrun --nnodes=2 --nproc_per_node=8 --node_rank=0 \\
        --master_addr=10.0.0.1 --master_port=29500 train.py --config gpt-mini.json

``--master_addr`` is an address of the node-rank-0 machine that the others
can reach, and ``--master_port`` a free port on it. GPUs talk through NCCL;
on CPU-only machines the processes use Gloo (handy for trying DDP on a
laptop: ``torchrun --standalone --nproc_per_node=2 train.py``). Keep the
*global* ``batch_size`` in the config unchanged when you add processes: each
one then does less work per step, and the training curve stays the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    """Who this process is: ``rank`` of ``world_size``, and the device it computes on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone prints, shows progress bars and writes checkpoints."""
        return self.rank == 0


def _pick_device(device: str, local_rank: int) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        return torch.device("cuda", local_rank)  # one GPU per process on this machine
    return torch.device(device)


def setup_distributed(device: str = "auto") -> DistributedContext:
    """Read ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` and join the process group if there is one.

    ``device`` is ``"auto"``, ``"cpu"``, ``"cuda"`` or e.g. ``"cuda:1"``.
    The backend is NCCL for CUDA and Gloo for CPU.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = _pick_device(device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if chosen.type == "cuda":
            torch.cuda.set_device(chosen)
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistributedContext(rank, world_size, local_rank, chosen)


def cleanup_distributed() -> None:
    """Leave the process group (call once at the end of a distributed script).

    Everyone waits for everyone first: a process that tears down its
    connections while a peer still uses them can abort the peer (Gloo).
    """
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def shard(indices: list[int], rank: int, world_size: int) -> list[int]:
    """This rank's share of a global batch: every ``world_size``-th index from ``rank``.

    The shares of all ranks are disjoint and together make the whole batch.
    ``len(indices)`` must be divisible by ``world_size`` so every rank does the
    same amount of work (DDP waits for the slowest).
    """
    if len(indices) % world_size:
        raise ValueError(
            f"a batch of {len(indices)} cannot be split evenly over {world_size} processes; "
            "make batch_size a multiple of the number of processes"
        )
    return indices[rank::world_size]


def all_reduce_mean(value: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """The mean of ``value`` over all processes (``value`` itself when there is one)."""
    if not context.is_distributed:
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / context.world_size


def all_gather_objects(obj: object, context: DistributedContext) -> list[object]:
    """``[obj of rank 0, obj of rank 1, ...]`` on every process."""
    if not context.is_distributed:
        return [obj]
    gathered: list[object] = [None] * context.world_size
    dist.all_gather_object(gathered, obj)
    return gathered


def barrier(context: DistributedContext) -> None:
    """Wait until every process gets here (e.g. until rank 0 has written a checkpoint)."""
    if context.is_distributed:
        dist.barrier()
