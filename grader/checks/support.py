"""What the course's checks share: fixtures, and comparisons that name the learner's mistake.

``expect_values`` is the workhorse: it accepts the right answer, then tries
every known mistake (by id, words from :mod:`grader.checks.mistakes`) before
falling back to "wrong shape", "contains nan" or "wrong values".

It is also the one import a check author needs (as check50's ``__init__``): the outcome
exceptions (:mod:`grader.engine.errors`), the feedback helpers, the forbidden-API checks,
activations and handles, the shared mistakes' words, toy data and the ex08 model rebuild
are all re-exported here::

    from grader.checks.support import CheckFailure, LearnerError, expect_values, load_expected
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from grader.checking.feedback import as_array, show
from grader.checking.forbidden import check_forbidden, check_tripwire
from grader.checking.mlp import MAX_PARAMS, Mlp, rebuild
from grader.checking.translate import Shapes, explain
from grader.checks.mistakes import MISTAKES, OVERFLOW_HINT, UNDERFLOW_HINT
from grader.course.toydata import RECOMMENDED_FIT, two_spirals
from grader.engine.errors import CallTimeout, CheckFailure, ChildCrashed, ExerciseMissing, LearnerError
from grader.engine.inside.protocol import Activation, Handle

__all__ = [
    # re-exported: everything else a check needs, so that a check has one import
    "CheckFailure", "ExerciseMissing", "LearnerError", "CallTimeout", "ChildCrashed",
    "show", "as_array", "check_forbidden", "check_tripwire", "Activation", "Handle",
    "MISTAKES", "OVERFLOW_HINT", "UNDERFLOW_HINT", "RECOMMENDED_FIT", "two_spirals",
    "MAX_PARAMS", "Mlp", "rebuild", "load_mnist", "Shapes", "explain",
    # defined here
    "load_expected",
    "array_of",
    "expect_values",
    "expect_dtype",
    "expect_rows_sum_to_one",
    "expect_softmax",
    "mistake_values",
    "brief",
    "error_line",
    "shape_errors",
    "PUBLIC_DIR",
]

PUBLIC_DIR = Path(__file__).resolve().parent / "public"


def load_mnist(split: str = "train", *, labels: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """MNIST as read-only uint8 arrays (grader/course/mnist.py), imported only when a check needs it."""
    from grader.course import mnist

    return mnist.load_mnist(split, labels=labels)


@cache
def _load(exercise_id: str) -> str:
    return (PUBLIC_DIR / f"expected_{exercise_id}.json").read_text()


def load_expected(exercise_id: str) -> dict[str, Any]:
    """The public inputs and expected values for one exercise (a fresh copy)."""
    return json.loads(_load(exercise_id))


def array_of(values: Any, dtype: str = "float32") -> np.ndarray:
    """A numpy array from fixture data; it arrives in the child as a tensor of this dtype."""
    return np.asarray(values, dtype=str if dtype == "str" else dtype)


def brief(value: Any, limit: int = 120) -> str:
    """An input as the learner would type it: values only, no shape or dtype."""
    array = np.asarray(value)
    with np.printoptions(precision=4, suppress=True, threshold=12, edgeitems=2, floatmode="maxprec"):
        text = " ".join(np.array2string(array, separator=", ").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Words in TensorFlow's (and numpy's) messages about operands whose shapes do not line up.
SHAPE_WORDS = ("Matrix size-incompatible", "Incompatible shapes", "incompatible", "shape",
               "could not be broadcast", "not aligned")


def error_line(exc: LearnerError) -> str:
    """The learner's exception in one readable line (the child handle already cut TensorFlow's decoration)."""
    message = exc.message.splitlines()[0] if exc.message else ""
    where = f"\n          at {exc.traceback[-1].strip()}" if exc.traceback else ""
    return f"{exc.type_name}: {message[:200]}{where}"


@contextmanager
def shape_errors(what: str, hint: str) -> Iterator[None]:
    """A learner error about mismatched shapes (a transposed matrix, a wrong axis) becomes a
    failure that says so, with `hint`; other errors (and NotImplementedError) pass through."""
    try:
        yield
    except LearnerError as exc:
        if exc.type_name == "NotImplementedError" or exc.phase == "import" \
                or not any(word in exc.message for word in SHAPE_WORDS):
            raise
        raise CheckFailure(f"{what} raised an error about mismatched shapes",
                           got=error_line(exc), hint=hint) from None


def mistake_values(mistakes: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in (mistakes or {}).items()}


def _close(array: np.ndarray, target: np.ndarray, rtol: float, atol: float) -> bool:
    if array.shape != target.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.allclose(array.astype(np.float64), target.astype(np.float64),
                                rtol=rtol, atol=atol, equal_nan=False))


def _shown(expected: np.ndarray, like: np.ndarray) -> str:
    if like.dtype.kind == "f" and expected.dtype.kind == "f":
        with np.errstate(over="ignore"):
            return show(expected.astype(like.dtype))
    return show(expected)


def expect_values(
    got: Any,
    expected: Any,
    what: str,
    *,
    mistakes: Mapping[str, Any] | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    hint: str | None = None,
    shape_hints: Mapping[tuple[int, ...], str] | None = None,
    nonfinite_hint: str | None = None,
) -> np.ndarray:
    """The learner's value as an array if it matches `expected`; otherwise a named failure."""
    array = as_array(got, what)
    expected = np.asarray(expected)
    if _close(array, expected, rtol, atol):
        return array
    for key, values in mistake_values(mistakes).items():
        if _close(array, values, rtol, atol) and not _close(values, expected, rtol, atol):
            problem, mistake_hint = MISTAKES[key]
            raise CheckFailure(f"{what}: {problem}", expected=_shown(expected, array),
                               got=show(array), hint=mistake_hint)
    if array.shape != expected.shape:
        shape = tuple(array.shape)
        raise CheckFailure(
            f"{what} has the wrong shape",
            expected=f"shape {tuple(expected.shape)}",
            got=f"shape {shape}: {show(array)}",
            hint=(shape_hints or {}).get(shape, hint),
        )
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)) and np.all(np.isfinite(expected)):
        bad = "nan" if np.isnan(array).any() else "inf" if np.isposinf(array).any() else "-inf"
        raise CheckFailure(f"{what} contains {bad}", expected=_shown(expected, array),
                           got=show(array), hint=nonfinite_hint or hint)
    raise CheckFailure(f"{what} has the wrong values", expected=_shown(expected, array),
                       got=show(array), hint=hint)


def expect_dtype(array: np.ndarray, dtype: str, what: str, hint: str | None = None) -> None:
    if str(array.dtype) != dtype:
        raise CheckFailure(
            f"{what} has dtype {array.dtype}",
            expected=f"dtype {dtype}, the same as the input",
            got=f"dtype {array.dtype}",
            hint=hint or "don't cast: TensorFlow keeps the input's dtype through tf.exp, +, * and "
            "reductions; write constants so they follow x (1.0 + x, not tf.constant(1.0) + x)",
        )


def expect_rows_sum_to_one(got: Any, what: str) -> np.ndarray:
    """softmax-like output: every slice along the last axis sums to 1."""
    array = as_array(got, what)
    if array.ndim == 0:
        raise CheckFailure(f"{what} returned a single number", expected="one value per entry of x",
                           got=show(array))
    sums = array.astype(np.float64).sum(axis=-1).reshape(array.shape[:-1] or (1,))
    bad = np.argwhere(~np.isclose(sums, 1.0, atol=1e-4))
    if len(bad) and array.ndim >= 2:
        total, columns = array.astype(np.float64).sum(), array.astype(np.float64).sum(axis=0)
        for key, found in (("softmax_all_entries", np.isclose(total, 1.0, atol=1e-4)),
                           ("softmax_wrong_axis", np.allclose(columns, 1.0, atol=1e-4))):
            if found:
                problem, hint = MISTAKES[key]
                raise CheckFailure(f"{what}: {problem}", expected="1.0 for every row",
                                   got=f"row sums {show(sums)}", hint=hint)
    if len(bad):
        index = tuple(int(i) for i in bad[0])
        where = "the vector" if array.ndim == 1 else f"row {index[0] if len(index) == 1 else index}"
        raise CheckFailure(
            f"{what}: softmax rows must sum to 1",
            expected="1.0 for every row (every slice along the last axis)",
            got=f"{where} sums to {float(sums[index]):.4g}",
            hint="did you sum over the right axis? use tf.reduce_sum(e, axis=-1, keepdims=True)",
        )
    return array



def expect_softmax(got: Any, expected: Any, what: str, **options: Any) -> np.ndarray:
    """Like expect_values; unnamed wrong values get the "rows must sum to 1" feedback if it applies."""
    try:
        return expect_values(got, expected, what, **options)
    except CheckFailure as failure:
        if failure.problem.endswith("has the wrong values"):
            expect_rows_sum_to_one(got, what)
        raise
