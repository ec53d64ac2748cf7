"""Checkpoints of a training run: write its whole state, read it back, count its wall time.

:class:`~minitransformers.training.trainer.Trainer` takes these methods from
:class:`ResumableTraining`, so that the training loop and the resuming of it
are each read in one sitting. What a checkpoint holds (weights, optimizer,
schedule, step, RNG states, history, the best weights) is enough for a
resumed run to continue bit for bit: the data order depends only on the step
(see the trainer's docstring).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from minitransformers.training import checkpoint as ckpt
from minitransformers.training.distributed import all_gather_objects, barrier
from minitransformers.training.resume import check_resume
from minitransformers.training.seeding import seed_everything

CHECKPOINT_NAME = "checkpoint.pt"


class ResumableTraining:
    """Saving and loading a :class:`~minitransformers.training.trainer.Trainer`'s state.

    A mixin: it reads the trainer's ``config``, ``context``, ``model``,
    ``optimizer``, ``scheduler``, ``grad_scaler``, ``step``, ``history`` and
    ``best`` and sets them again on loading.
    """

    @property
    def checkpoint_path(self) -> Path:
        if self.config.output_dir is None:
            raise ValueError("set config.output_dir to write or find checkpoints")
        return Path(self.config.output_dir) / CHECKPOINT_NAME

    def _logged_seconds(self) -> float:
        """The training time that a checkpoint without ``wall_seconds`` (written before they had one)
        logged: the tokens between log rows over the throughput each row measured (no evaluations)."""
        example = self.train_dataset[0]
        tokens_per_step = self.config.batch_size * example["input_ids"].numel()  # the global batch
        seconds, previous_step = 0.0, 0
        for row in self.history:
            if row.get("tokens_per_s"):
                seconds += (row["step"] - previous_step) * tokens_per_step / row["tokens_per_s"]
                previous_step = row["step"]
        return seconds

    @property
    def wall_seconds(self) -> float:
        """Wall-clock seconds of this run, summed over every resume (up to the last checkpoint of each)."""
        return self.seconds_before_resume + (time.time() - self._started)

    def save_checkpoint(self, path: str | Path | None = None) -> None:
        """Write the full training state (every process must call this; rank 0 writes)."""
        rng_states = all_gather_objects(ckpt.rng_state(), self.context)
        if self.context.is_main:
            ckpt.save_checkpoint(
                path or self.checkpoint_path,
                model=self.model,
                optimizer=self.optimizer,
                scheduler=self.scheduler,
                step=self.step,
                config=self.config.to_dict(),
                rng_states=rng_states,
                history=self.history,
                data_position=dict(
                    zip(("epoch", "batch"), divmod(self.step, self.batches_per_epoch))
                ),
                grad_scaler=self.grad_scaler.state_dict(),
                best={**self.best, "model": self._best_weights},
                wall_seconds=self.wall_seconds,
                resumed_at_steps=self.resumed_at_steps,
            )
        barrier(self.context)  # nobody runs ahead (or reads) before the file is complete

    def load_checkpoint(self, path: str | Path | None = None) -> None:
        """Restore the state saved by :meth:`save_checkpoint`; training continues from its step."""
        path = path or self.checkpoint_path
        state = ckpt.load_checkpoint(path)
        changed = check_resume(state, self.model, self.config.to_dict(), path)  # refuses another architecture
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as error:  # missing keys or other shapes: another architecture or size
            first = str(error).splitlines()[1].strip() if "\n" in str(error) else str(error)
            raise ValueError(
                f"the checkpoint {path} holds a model of another architecture or size than this one "
                f"({first}); resume with the model settings it was trained with, or start a new run "
                f"in another output folder"
            ) from None
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state.get("grad_scaler"):
            self.grad_scaler.load_state_dict(state["grad_scaler"])
        self.step, self.history = state["step"], list(state["history"])
        # Time spent after this checkpoint was written is lost with the interrupted process.
        self.seconds_before_resume = float(state.get("wall_seconds", self._logged_seconds()))
        self._started = time.time()
        self.resumed_at_steps = [*state.get("resumed_at_steps", []), self.step]
        best = state.get("best") or {}
        if best.get("step") is not None:
            self.best = {"step": best["step"], "loss": best["loss"]}
            self._best_weights = best.get("model")
        if changed:
            warnings.warn(
                f"resuming with a different config for {changed}; "
                "the run will not match an uninterrupted one",
                stacklevel=2,
            )
        if len(state["rng_states"]) == self.context.world_size:
            ckpt.set_rng_state(state["rng_states"][self.context.rank])
        else:  # a different number of processes: reseed deterministically instead
            seed_everything(self.config.seed + self.context.rank + 7919 * self.step)
