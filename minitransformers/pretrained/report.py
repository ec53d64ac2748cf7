"""What loading a checkpoint can go wrong with, and the report of what was (not) loaded."""

from __future__ import annotations

from dataclasses import dataclass, field


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded as asked (wrong architecture, bad config, ...)."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """No directory (or no weights file) where the checkpoint should be."""


class CorruptCheckpointError(CheckpointError):
    """A weights file that cannot be read: truncated, damaged, or not a weights file at all."""


class UnsafeCheckpointError(CheckpointError):
    """A ``.bin`` file whose unpickling would import or call code, refused before it runs."""


@dataclass
class Mismatch:
    """A tensor whose shape in the checkpoint differs from the model's."""

    key: str  # the checkpoint's name
    expected: tuple[int, ...]  # the shape the model needs (as the checkpoint stores it)
    found: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.key}: model expects {self.expected}, checkpoint has {self.found}"


@dataclass
class LoadingReport:
    """What ``from_pretrained`` did with each tensor; attached to the model as ``model.loading_report``.

    - ``loaded``: number of our tensors filled from the checkpoint.
    - ``missing``: our parameters (our names) of the model body the checkpoint lacks.
    - ``newly_initialised``: task-head or pooler parameters (our names) the checkpoint lacks;
      they keep their random initial values (``strict=False`` only).
    - ``unexpected``: checkpoint tensors the model has no place for.
    - ``mismatched``: checkpoint tensors of the wrong shape (not loaded).
    - ``dropped``: checkpoint tensors of a task head (or pooler) this model does not have.
    - ``ignored``: checkpoint buffers that are not weights (``position_ids``, ``attn.bias``, ...).
    """

    source: str = ""
    model: str = ""
    loaded: int = 0
    missing: list[str] = field(default_factory=list)
    newly_initialised: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[Mismatch] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def problems(self) -> bool:
        """True when strict loading would refuse this checkpoint."""
        return bool(self.missing or self.newly_initialised or self.unexpected or self.mismatched)

    def __str__(self) -> str:
        return self.describe()

    def describe(self, problems_only: bool = False) -> str:
        """One line per list entry, under a title per non-empty list."""
        loaded = "" if problems_only else f" {self.loaded} tensors loaded"
        lines = [f"{self.model} from {self.source}:{loaded}"]
        sections = (
            ("missing from the checkpoint (left at random values)", self.missing),
            ("newly initialised head (not in the checkpoint)", self.newly_initialised),
            ("unexpected in the checkpoint (not loaded)", self.unexpected),
            ("shape mismatches (not loaded)", self.mismatched),
            ("dropped (a head this model does not have)", self.dropped),
            ("ignored (buffers, not weights)", self.ignored),
        )
        for title, items in sections[:4] if problems_only else sections:
            if items:
                lines.append(f"  {title} ({len(items)}):")
                lines.extend(f"    {item}" for item in items)
        return "\n".join(lines)


class CheckpointMismatchError(CheckpointError):
    """Strict loading found missing, unexpected or mis-shaped tensors; ``.report`` lists them all."""

    def __init__(self, report: LoadingReport) -> None:
        self.report = report
        hints = []
        if report.newly_initialised:
            hints.append("the checkpoint has no weights for this model's task head (it was saved from a "
                         "model without it); to start the head from random weights, e.g. to fine-tune, "
                         "pass strict=False")
        if report.missing or report.unexpected or report.mismatched:
            hints.append("check that the checkpoint matches this class and config; strict=False loads "
                         "what fits and lists the rest in model.loading_report")
        super().__init__(f"cannot load {report.source} into {report.model}:\n"
                         f"{report.describe(problems_only=True)}\nTo fix: "
                         + "; ".join(hints))
