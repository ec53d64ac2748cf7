"""The training loop: one readable loop for BERT, GPT or any model with a ``.loss``.

One optimizer step, in order:

1. take the next *global* batch of example indices (a fixed shuffle per epoch),
2. keep this process's share of it (``distributed.shard``),
3. split the share into ``gradient_accumulation_steps`` micro-batches; for
   each, run ``model(**batch).loss`` and ``backward`` (gradients add up),
4. clip the global gradient norm, step AdamW, step the learning-rate schedule,
5. log, evaluate and checkpoint when it is time.

**Why the run can resume exactly.** The examples of step ``s`` depend only on
``(seed, s)``: epoch ``e = s // batches_per_epoch`` is shuffled with a
generator seeded by ``(seed, e)``, and step ``s`` takes its slice of that
order. So the data position is just the step counter, and a checkpoint with
weights, optimizer, scheduler, step and RNG states (for dropout) is enough
to continue as if the run had never stopped. Writing and reading that
checkpoint is :class:`~minitransformers.training.trainer_checkpoints.ResumableTraining`,
which ``Trainer`` takes its checkpoint methods from.

**Why it is fast.** A dataset with a ``batch(indices)`` method (every dataset
in :mod:`minitransformers.data`) builds a whole batch with one indexing
operation instead of stacking Python items. On CUDA the batch is copied from
pinned memory without waiting, and the loop never asks the device for a
number (``.item()``) except every ``log_every`` steps, so the CPU prepares
step ``s + 1`` while the GPU still runs step ``s``. AdamW is ``fused``
(one pass over each weight tensor, on the CPU and CUDA), and
``TrainConfig.compile`` compiles the model.

**The best step.** With ``keep_best`` the trainer remembers the weights with
the lowest evaluation loss; they are saved inside every checkpoint, so the
choice survives an interruption. :meth:`Trainer.restore_best` loads them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm  # plain text bars: work in terminals and notebooks without ipywidgets

from minitransformers.models.base import check_batch_values, values_checked_elsewhere
from minitransformers.training.config import TrainConfig
from minitransformers.training.distributed import (
    DistributedContext,
    all_reduce_mean,
    setup_distributed,
    shard,
)
from minitransformers.training.optim import make_optimizer, make_scheduler
from minitransformers.training.seeding import seed_everything, seeded_generator
from minitransformers.training.trainer_checkpoints import ResumableTraining

class Trainer(ResumableTraining):
    """Trains ``model`` on ``train_dataset`` as ``config`` says; see the module docstring.

    ``model(**batch)`` must return an object with a scalar ``.loss``; dataset
    items are dicts of tensors, stacked by ``collate_fn``. Under ``torchrun``
    the model is wrapped in ``DistributedDataParallel`` automatically.
    """

    def __init__(
        self,
        model: nn.Module,
        train_dataset: torch.utils.data.Dataset,
        config: TrainConfig,
        *,
        eval_dataset: torch.utils.data.Dataset | None = None,
        collate_fn: Callable[[list[Any]], dict[str, torch.Tensor]] | None = None,
        context: DistributedContext | None = None,
    ) -> None:
        self.config = config
        self.context = context or setup_distributed(config.device)
        per_step = self.context.world_size * config.gradient_accumulation_steps
        if config.batch_size % per_step:
            raise ValueError(
                f"batch_size={config.batch_size} must be divisible by world_size x "
                f"gradient_accumulation_steps = {per_step}"
            )
        self.batches_per_epoch = len(train_dataset) // config.batch_size
        if self.batches_per_epoch == 0:
            raise ValueError(
                f"the training set has {len(train_dataset)} examples, fewer than one batch "
                f"(batch_size={config.batch_size}); lower batch_size or add data"
            )
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.collate_fn = collate_fn or torch.utils.data.default_collate
        self.model = model.to(self.context.device)
        self.wrapped_model: nn.Module = self.model
        if self.context.is_distributed:
            device_ids = [self.context.device] if self.context.device.type == "cuda" else None
            self.wrapped_model = DistributedDataParallel(self.model, device_ids=device_ids)
        if config.compile:
            # self.model stays the plain module: its state_dict names are the checkpoint's.
            self.wrapped_model = torch.compile(self.wrapped_model)
        self.optimizer = make_optimizer(
            self.model,
            learning_rate=config.learning_rate,
            weight_decay=config.weight_decay,
            betas=(config.beta1, config.beta2),
        )
        self.scheduler = make_scheduler(
            self.optimizer,
            warmup_steps=config.warmup_steps,
            max_steps=config.max_steps,
            min_lr_ratio=config.min_learning_rate / config.learning_rate,
        )
        # float16 overflows above 65504 and underflows small gradients to zero: the scaler
        # multiplies the loss before backward and divides the gradients again before the step.
        # bfloat16 has float32's range and needs none.
        self.grad_scaler = torch.amp.GradScaler(
            self.context.device.type, enabled=config.autocast_dtype == "float16"
        )
        # Our models check token ids by reading them, which on a GPU makes the CPU wait for it
        # at every step; there the trainer checks each batch on the CPU before copying it.
        self._check_on_host = (
            self.context.device.type == "cuda" and hasattr(getattr(model, "config", None), "vocab_size")
        )
        self.step = 0
        self.history: list[dict[str, float]] = []
        # The lowest evaluation loss so far, its step, and (with keep_best) its weights on the CPU.
        self.best: dict[str, Any] = {"step": None, "loss": float("inf")}
        self._best_weights: dict[str, torch.Tensor] | None = None
        # Wall-clock seconds of the run so far, carried through checkpoints, so that a run resumed
        # after an interruption reports its whole time (what a model card quotes), not its last part.
        self.seconds_before_resume = 0.0
        self.resumed_at_steps: list[int] = []
        self._started = time.time()
        # Each process gets its own dropout stream; all are fixed by the seed.
        seed_everything(config.seed + self.context.rank)
        self._epoch, self._order = -1, torch.empty(0, dtype=torch.long)

    # ----- data ---------------------------------------------------------------------------

    def _global_batch(self, step: int) -> list[int]:
        """Indices of the examples behind optimizer step ``step`` (same on every process)."""
        epoch, position = divmod(step, self.batches_per_epoch)
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = torch.randperm(
                len(self.train_dataset), generator=seeded_generator(self.config.seed, epoch)
            )
            if hasattr(self.train_dataset, "set_epoch"):
                self.train_dataset.set_epoch(epoch)  # e.g. fresh MLM masks each epoch
        size = self.config.batch_size
        return self._order[position * size : (position + 1) * size].tolist()

    def _collate(self, indices: list[int], dataset: torch.utils.data.Dataset) -> dict:
        """The examples at ``indices`` as one batch of tensors on the training device."""
        if hasattr(dataset, "batch") and self.collate_fn is torch.utils.data.default_collate:
            batch = dataset.batch(torch.as_tensor(indices, dtype=torch.long))
        else:
            batch = self.collate_fn([dataset[index] for index in indices])
        if self._check_on_host:
            check_batch_values(batch, self.model.config)
        if self.context.device.type != "cuda":
            return {key: value.to(self.context.device) for key, value in batch.items()}
        # Pinned host memory lets the copy run asynchronously, overlapping the previous step.
        return {
            key: value.pin_memory().to(self.context.device, non_blocking=True)
            for key, value in batch.items()
        }

    def _loss(self, model: nn.Module, batch: dict) -> torch.Tensor:
        dtype = self.config.autocast_dtype
        autocast = torch.autocast(
            self.context.device.type, dtype=getattr(torch, dtype or "bfloat16"), enabled=bool(dtype)
        )
        # On a GPU the batch was checked on the CPU (_collate): the model need not read it back.
        checked = values_checked_elsewhere() if self._check_on_host else contextlib.nullcontext()
        with autocast, checked:
            output = model(**batch)
        loss = output["loss"] if isinstance(output, dict) else getattr(output, "loss", None)
        if loss is None:
            raise ValueError(
                f"the model returned no loss for a batch with keys {sorted(batch)}; "
                "the batch must contain labels (datasets in minitransformers.data add them)"
            )
        return loss.float()

    # ----- training -----------------------------------------------------------------------

    def train(
        self, until_step: int | None = None, *, resume_from: str | Path | None = None
    ) -> list[dict[str, float]]:
        """Train up to step ``until_step`` (default ``config.max_steps``); returns the history.

        Call again with a larger ``until_step`` to continue, e.g. in a notebook.
        ``resume_from`` loads a checkpoint first. History rows hold ``step``,
        ``loss``, ``lr``, ``tokens_per_s``, and ``eval_loss`` after evaluations.
        """
        if resume_from is not None:
            self.load_checkpoint(resume_from)
        config, context = self.config, self.context
        until = min(until_step or config.max_steps, config.max_steps)
        # The bar spans the whole run (max_steps), so its time left is the run's even when
        # train() is called a piece at a time (an evaluation every few hundred steps, say).
        progress = tqdm(
            total=config.max_steps, initial=self.step, disable=not (config.progress and context.is_main),
            mininterval=2.0, unit="step",
        )
        self.wrapped_model.train()
        # Losses add up on the device; reading them (a host sync) waits for the log step.
        interval_loss, interval_steps, interval_tokens = None, 0, 0
        interval_started = time.perf_counter()
        while self.step < until:
            lr = self.optimizer.param_groups[0]["lr"]
            step_loss, tokens = self._optimizer_step()
            interval_loss = step_loss if interval_loss is None else interval_loss + step_loss
            interval_steps, interval_tokens = interval_steps + 1, interval_tokens + tokens
            evaluate_now = (
                self.eval_dataset is not None
                and config.eval_every > 0
                and (self.step % config.eval_every == 0 or self.step == config.max_steps)
            )
            if evaluate_now or self.step % config.log_every == 0 or self.step == until:
                mean_loss = all_reduce_mean(interval_loss / interval_steps, context).item()
                elapsed = time.perf_counter() - interval_started
                tokens_per_s = interval_tokens * context.world_size / elapsed
                row = {"step": self.step, "loss": mean_loss, "lr": lr, "tokens_per_s": tokens_per_s}
                if evaluate_now:
                    row["eval_loss"] = self.evaluate()
                    self._remember_if_best(row["eval_loss"])
                self.history.append(row)
                progress.set_postfix(loss=f"{mean_loss:.3f}", tok_s=f"{tokens_per_s:,.0f}")
                interval_loss, interval_steps, interval_tokens = None, 0, 0
                interval_started = time.perf_counter()
            progress.update(1)
            if config.output_dir is not None and (
                (config.checkpoint_every and self.step % config.checkpoint_every == 0)
                or self.step == until
            ):
                self.save_checkpoint()
        progress.close()
        return self.history

    def _optimizer_step(self) -> tuple[torch.Tensor, int]:
        """One optimizer step on this process's share of the next global batch.

        Returns the step's mean loss on this process and the tokens it read.
        """
        context, n_micro = self.context, self.config.gradient_accumulation_steps
        local = shard(self._global_batch(self.step), context.rank, context.world_size)
        micro_size = len(local) // n_micro
        self.optimizer.zero_grad(set_to_none=True)
        step_loss, tokens = torch.zeros((), device=context.device), 0
        for micro in range(n_micro):
            indices = local[micro * micro_size : (micro + 1) * micro_size]
            batch = self._collate(indices, self.train_dataset)
            # DDP all-reduces gradients during backward; only the last micro-batch needs that.
            no_sync = context.is_distributed and micro < n_micro - 1
            with self.wrapped_model.no_sync() if no_sync else contextlib.nullcontext():
                loss = self._loss(self.wrapped_model, batch)
                # gradients add up to those of the mean loss (scaled first in float16)
                self.grad_scaler.scale(loss / n_micro).backward()
            step_loss += loss.detach() / n_micro
            tokens += batch["input_ids"].numel()
        self.grad_scaler.unscale_(self.optimizer)  # clip the true gradients, not scaled ones
        if self.config.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.grad_scaler.step(self.optimizer)  # skipped when a float16 gradient overflowed
        self.grad_scaler.update()
        self.scheduler.step()
        self.step += 1
        return step_loss, tokens

    @torch.no_grad()
    def evaluate(self, dataset: torch.utils.data.Dataset | None = None) -> float:
        """Mean loss per example over (the first ``eval_batches`` batches of) ``dataset``."""
        dataset = dataset if dataset is not None else self.eval_dataset
        if dataset is None:
            raise ValueError("no dataset to evaluate: pass one or give the Trainer eval_dataset")
        config, context = self.config, self.context
        size = config.batch_size // config.gradient_accumulation_steps
        n = len(dataset)
        if config.eval_batches is not None:
            n = min(n, config.eval_batches * size)
        self.model.eval()
        # The sum of (loss x examples) and the example count, over all processes.
        totals = torch.zeros(2, device=context.device, dtype=torch.float64)
        for start in range(0, n, size):
            batch_indices = list(range(start, min(start + size, n)))
            mine = batch_indices[context.rank :: context.world_size]  # eval needs no even split
            if mine:
                loss = self._loss(self.model, self._collate(mine, dataset))
                totals += torch.tensor(
                    [loss.item() * len(mine), len(mine)], device=context.device, dtype=torch.float64
                )
        totals = all_reduce_mean(totals, context)  # the ratio is what we need; mean is fine
        self.model.train()
        return (totals[0] / totals[1]).item()

    def _remember_if_best(self, eval_loss: float) -> None:
        if eval_loss < self.best["loss"]:
            self.best = {"step": self.step, "loss": eval_loss}
            if self.config.keep_best:
                self._best_weights = {
                    name: tensor.detach().to("cpu", copy=True)
                    for name, tensor in self.model.state_dict().items()
                }

    def restore_best(self) -> int:
        """Load the weights of the best evaluation so far (needs ``keep_best``); returns their step."""
        if self._best_weights is None:
            raise ValueError(
                "no best weights to restore: set TrainConfig.keep_best=True and evaluate "
                "(eval_every > 0 with an eval_dataset) at least once"
            )
        self.model.load_state_dict(self._best_weights)
        return self.best["step"]
