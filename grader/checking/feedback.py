"""Helpers that checks use to fail with feedback a beginner can act on.

A failure says what was expected, what came back, and what to try, in the
learner's terms (shapes, axes, overflow), e.g.::

    raise CheckFailure("softmax rows must sum to 1", expected="1.0 for every row",
                       got="row 0 sums to 1.73", hint="did you sum over the right axis?")
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.engine.inside.protocol import Handle

__all__ = [
    "CheckFailure",
    "show",
    "as_array",
    "expect_shape",
    "expect_close",
    "expect_finite",
]


class CheckFailure(AssertionError):
    """A check failed because of the learner's output; the message is their feedback."""

    def __init__(self, problem: str, *, expected: Any = None, got: Any = None, hint: str | None = None):
        self.problem, self.expected, self.got, self.hint = problem, expected, got, hint
        lines = [problem]
        if expected is not None:
            lines.append(f"expected: {expected}")
        if got is not None:
            lines.append(f"got:      {got}")
        if hint:
            lines.append(f"try:      {hint}")
        super().__init__("\n".join(lines))


def show(value: Any, limit: int = 160) -> str:
    """A short, readable rendering of a value for feedback."""
    if isinstance(value, Handle):
        return f"a {value.type} object"
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=4, suppress=True, threshold=12, edgeitems=2):
            text = np.array2string(value, separator=", ")
        text = " ".join(text.split())
        if value.ndim:
            dtype = "string" if value.dtype.kind in "USO" else str(value.dtype)
            return f"{text[:limit]} (shape {tuple(value.shape)}, {dtype})"
        return text[:limit]
    if isinstance(value, (list, tuple)) and any(isinstance(v, (np.ndarray, Handle)) for v in value):
        kind = type(value).__name__
        parts = [f"shape {tuple(v.shape)}" if isinstance(v, np.ndarray) else show(v, 40) for v in value]
        text = f"a {kind} of {len(value)} items: " + ", ".join(parts)
        return text if len(text) <= limit else text[: limit - 3] + "..."
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_array(value: Any, what: str) -> np.ndarray:
    """The learner's value as a numeric numpy array, or a failure saying what came back."""
    if isinstance(value, (list, tuple)) and not value:
        raise CheckFailure(f"{what} returned an empty {type(value).__name__}", expected="a tensor")
    if isinstance(value, Handle) or value is None or isinstance(value, (str, dict)):
        raise CheckFailure(
            f"{what} must return a tensor",
            expected="a tf.Tensor or numpy array",
            got=show(value),
            hint="did you forget a `return`?" if value is None else None,
        )
    try:
        array = np.asarray(value, dtype=float) if not isinstance(value, np.ndarray) else value
    except (TypeError, ValueError):
        raise CheckFailure(f"{what} must return numbers", expected="a tensor of numbers", got=show(value)) from None
    if array.dtype.kind not in "biuf":
        raise CheckFailure(f"{what} must return numbers", expected="a tensor of numbers", got=show(array))
    return array


def expect_shape(value: Any, shape: tuple[int, ...], what: str, hint: str | None = None) -> np.ndarray:
    array = as_array(value, what)
    if tuple(array.shape) != tuple(shape):
        raise CheckFailure(
            f"{what} has the wrong shape",
            expected=f"shape {tuple(shape)}",
            got=f"shape {tuple(array.shape)}",
            hint=hint,
        )
    return array


def expect_finite(value: Any, what: str, hint: str | None = None) -> np.ndarray:
    array = as_array(value, what)
    if not np.all(np.isfinite(array)):
        bad = "nan" if np.isnan(array).any() else "inf"
        raise CheckFailure(f"{what} contains {bad}", expected="finite numbers", got=show(array), hint=hint)
    return array


def expect_close(
    value: Any,
    expected: np.ndarray,
    what: str,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    hint: str | None = None,
) -> np.ndarray:
    """Shape first, then values; the feedback shows both arrays."""
    expected = np.asarray(expected)
    array = expect_shape(value, expected.shape, what, hint=hint)
    if not np.allclose(array.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol, equal_nan=False):
        raise CheckFailure(f"{what} has the wrong values", expected=show(expected), got=show(array), hint=hint)
    return array
