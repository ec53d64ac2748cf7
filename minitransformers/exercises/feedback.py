"""Compare a student's answer with the library's and explain the difference in words.

The order of checks is the order a student debugs in: did it run, is it the
right kind of object, the right shape, free of NaN, the right values? When
values are wrong, the answer is compared with the output of each *typical
mistake* of the exercise (missing scale, mask after softmax, ...); a match
names the mistake instead of printing a wall of numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

ATOL, RTOL = 1e-5, 1e-4


@dataclass
class CheckResult:
    """The verdict of ``check``: ``passed``, a ``message`` for the student, and the mistake recognised."""

    exercise: str
    passed: bool
    message: str
    mistake: str | None = None  # the name of a recognised typical mistake, if any

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    # In a notebook, ``check(...)`` as the last line of a cell shows the message itself.
    __repr__ = __str__


class Text(str):
    """Words for the student (a statement, a hint): a ``str`` that shows as itself, not as a quoted string.

    Jupyter shows a cell's last value by its ``repr``, and so does a terminal's ``>>>`` prompt; a plain
    str's ``repr`` is quoted, with its line breaks as ``\\n``. Here ``repr`` is the text itself.
    """

    def __repr__(self) -> str:
        return str(self)


def describe_inputs(inputs: dict[str, Any]) -> str:
    """``q (2, 3, 4, 8), n_heads=2``: what the failing trial was given, without the numbers."""
    parts = []
    for name, value in inputs.items():
        if isinstance(value, torch.Tensor):
            kind = "bool " if value.dtype == torch.bool else ""
            parts.append(f"{name} {kind}{tuple(value.shape)}")
        elif isinstance(value, (int, float, type(None))):
            parts.append(f"{name}={value}")
        else:
            parts.append(f"{name}=<{type(value).__name__}>")
    return ", ".join(parts)


def plain(value: Any) -> Any:
    """``value`` with every tensor (also inside a tuple or list) turned into a plain ``torch.Tensor``.

    A tensor subclass can redefine any operation through ``__torch_function__``, ``isclose`` and
    ``==`` included; the grader compares only plain tensors, whose operations are torch's own.
    """
    if isinstance(value, tuple):
        return tuple(plain(item) for item in value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, torch.Tensor) and type(value) is not torch.Tensor:
        with torch._C.DisableTorchFunctionSubclass():  # the subclass gets no say in its own conversion
            return torch.Tensor.as_subclass(value, torch.Tensor)
    return value


def compare(expected: Any, got: Any, names: tuple[str, ...]) -> str | None:
    """``None`` if ``got`` equals ``expected`` (tensors, or a tuple of them); otherwise what differs."""
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            found = f"a {type(got).__name__}" + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
            return f"expected a tuple of {len(expected)} values ({', '.join(names)}), got {found}"
        for name, want, have in zip(names, expected, got):
            problem = compare(want, have, (name,))
            if problem:
                return problem
        return None
    return _compare_tensor(expected, got, names[0])


def _compare_tensor(expected: torch.Tensor, got: Any, name: str) -> str | None:
    if not isinstance(got, torch.Tensor):
        advice = " (convert with torch.from_numpy)" if type(got).__module__ == "numpy" else ""
        return f"`{name}` should be a torch.Tensor, got {type(got).__name__}{advice}"
    if got.shape != expected.shape:
        return f"`{name}` has shape {tuple(got.shape)} but should have shape {tuple(expected.shape)}. " + _shape_hint(
            expected.shape, got.shape
        )
    dtype_problem = _dtype_problem(expected.dtype, got.dtype, name)
    if dtype_problem:
        return dtype_problem
    if got.device != expected.device:
        return (f"`{name}` is on the device {got.device}, but the inputs are on {expected.device}: make new "
                f"tensors on the inputs' device (device=x.device) and leave out .to(...) or .cuda()")
    precision_problem = _precision_problem(expected, got, name)
    if precision_problem:
        return precision_problem
    got = got.detach().to(expected.dtype)
    bad_nan = torch.isnan(got) & ~torch.isnan(expected)
    if bad_nan.any():
        where = tuple(bad_nan.nonzero()[0].tolist())
        return (
            f"`{name}` contains NaN ({int(bad_nan.sum())} entries, first at index {where}). NaN usually comes "
            f"from softmax over a row whose scores are all -inf, or from 0/0"
        )
    close = torch.isclose(got, expected, atol=ATOL, rtol=RTOL, equal_nan=True)
    if close.all():
        return None
    difference = (got.double() - expected.double()).abs().nan_to_num(0.0)  # double: bool cannot subtract
    where = tuple(int(i) for i in torch.unravel_index(difference.argmax(), difference.shape))
    return (
        f"`{name}` has the right shape {tuple(expected.shape)} but {int((~close).sum())} of {close.numel()} "
        f"values differ; the largest difference is at index {where}: expected {expected[where].item():.5g}, "
        f"got {got[where].item():.5g}." + (_ratio_hint(expected, got) if expected.dtype.is_floating_point else "")
    )


def _dtype_problem(expected: torch.dtype, got: torch.dtype, name: str) -> str | None:
    """The kind of number must match: float for values, bool for masks, integers for ids."""
    if expected.is_floating_point and not got.is_floating_point:
        return f"`{name}` has dtype {got}; it should be a float tensor ({expected})"
    if expected == torch.bool and got != torch.bool:
        return (f"`{name}` has dtype {got}; it should be a bool tensor (True = may attend). Build it from "
                f"a comparison such as `a <= b`, or convert with `.bool()`")
    if expected != torch.bool and not expected.is_floating_point and (got.is_floating_point or got == torch.bool):
        return f"`{name}` has dtype {got}; it should hold integer ids ({expected}): convert with `.long()`"
    return None


class Problem(str):
    """What differs, in words, and the name of the mistake it is (``mistake``) when the comparison knows it."""

    mistake: str | None = None

    def __new__(cls, text: str, mistake: str | None = None) -> Problem:
        problem = super().__new__(cls, text)
        problem.mistake = mistake
        return problem


def _precision_problem(expected: torch.Tensor, got: torch.Tensor, name: str) -> Problem | None:
    """A float answer in another float dtype: named, never passed on to the value comparison.

    float16 cannot hold the values to the grader's tolerance, so its answer would read as "values
    differ"; float64 would pass silently, then fail where it meets the model's float32 weights
    (a matmul of the two is an error). Either way the dtype is the thing to fix.
    """
    if not (expected.is_floating_point() and got.is_floating_point()) or got.dtype == expected.dtype:
        return None
    text = f"`{name}` has dtype {got.dtype}, but should be {expected.dtype}, the dtype of the library's answer"
    converted = got.detach().to(expected.dtype)
    if torch.isclose(converted, expected, atol=ATOL, rtol=RTOL, equal_nan=True).all():
        text += (f"; its values are right, only the dtype is not. Keep the inputs' dtype: a {got.dtype} tensor "
                 f"made along the way (.double(), numpy, torch.tensor(..., dtype={got.dtype})) turns the whole "
                 f"result {got.dtype}")
    elif torch.finfo(got.dtype).bits < torch.finfo(expected.dtype).bits:
        text += (f". {got.dtype} keeps only about {torch.finfo(got.dtype).resolution:g} of relative precision, "
                 f"so its values cannot match; compute in the inputs' dtype (leave out .half() or "
                 f".to({got.dtype}))")
    else:
        text += ". Its values differ too, even converted: compute in the inputs' dtype, then check again"
    return Problem(text + ".", mistake="wrong_dtype")


def _shape_hint(expected: torch.Size, got: torch.Size) -> str:
    if sorted(got) == sorted(expected):
        return "The same sizes in another order: a dimension is transposed or the reshape order is off."
    if got.numel() == expected.numel():
        return "The same number of entries arranged differently: check your reshape / rearrange pattern."
    if len(got) != len(expected):
        return f"{len(got)} dimensions instead of {len(expected)}: a dimension was added, dropped or merged."
    return "Check which dimension a sum, softmax, cat or reshape acts on."


def _ratio_hint(expected: torch.Tensor, got: torch.Tensor) -> str:
    """Notice answers that are the right ones times a constant (a forgotten or extra scale)."""
    usable = expected.abs() > 1e-3
    if usable.sum() < 2:
        return ""
    ratio = got[usable] / expected[usable]
    if torch.allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-3, atol=1e-6) and abs(ratio[0].item() - 1) > 1e-3:
        return f" Every value is {ratio[0].item():.4g} times the expected one: look for a missing or extra scale."
    return ""


def matches(expected: Any, got: Any, names: tuple[str, ...]) -> bool:
    """True when ``got`` passes ``compare`` against ``expected``."""
    try:
        return compare(expected, got, names) is None
    except Exception:  # noqa: BLE001  (a malformed answer matches nothing)
        return False
