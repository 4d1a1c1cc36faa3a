"""Hidden checks for ex05: random logits with large random offsets, in float32 and float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.hidden import reference
from grader.checks.public.test_ex05_stable_softmax import (
    KEEPDIMS,
    VALUE_HINTS,
    call,
    finite_hint,
)
from grader.checks.support import expect_dtype, expect_values

pytestmark = pytest.mark.exercise("ex05")

OFFSETS = (0.0, 500.0, -800.0, 1e4, 1e30, -1e30)


def logits(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Scores with a large random offset per row (naive exp overflows or underflows), and one
    score 1000 below its row, whose probability underflows to 0."""
    offsets = rng.choice(OFFSETS, size=shape[:-1] + (1,))
    x = rng.normal(size=shape) * rng.choice([1.0, 5.0]) + offsets
    if shape[-1] > 1:
        rows = x.reshape(-1, shape[-1])
        rows[int(rng.integers(len(rows))), int(rng.integers(shape[-1]))] -= 1000.0
    return x.astype(dtype)


def random_shape(rng: np.random.Generator) -> tuple[int, ...]:
    return tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 4))))


def check(sub: Any, function: str, args: list[Any], expected: Any, mistakes: Any, what: str,
          dtype: str, kwargs: dict[str, Any] | None = None, **hints: Any) -> None:
    got = call(sub, function, args, kwargs)
    hints.setdefault("hint", VALUE_HINTS[function])
    array = expect_values(got, expected, what, mistakes=mistakes, nonfinite_hint=finite_hint(got, function),
                          rtol=1e-4, atol=1e-4, **hints)
    expect_dtype(array, dtype, what)


@pytest.mark.points(1)
def test_logsumexp_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """logsumexp over a random axis of random tensors with large offsets"""
    for dtype in ("float32", "float64"):
        shape = random_shape(hidden_rng)
        x = logits(hidden_rng, shape, dtype)
        axis = int(hidden_rng.integers(-len(shape), len(shape)))
        check(sub, "logsumexp", [x], reference.logsumexp(x, axis), reference.logsumexp_mistakes(x, axis),
              f"logsumexp(x, axis={axis}) for a {dtype} x of shape {shape}", dtype, {"axis": axis},
              hint="reduce over `axis` in every step")


@pytest.mark.points(1)
def test_stable_softmax_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """stable_softmax of random batches with large offsets"""
    for dtype in ("float32", "float64"):
        x = logits(hidden_rng, random_shape(hidden_rng), dtype)
        check(sub, "stable_softmax", [x], reference.softmax(x),
              reference.activation_mistakes("softmax", x),
              f"stable_softmax(x) for a {dtype} x of shape {x.shape}", dtype)


@pytest.mark.points(1)
def test_log_softmax_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """log_softmax of random batches with large offsets"""
    for dtype in ("float32", "float64"):
        x = logits(hidden_rng, random_shape(hidden_rng), dtype)
        check(sub, "log_softmax", [x], reference.log_softmax(x), reference.log_softmax_mistakes(x),
              f"log_softmax(x) for a {dtype} x of shape {x.shape}", dtype)


@pytest.mark.points(2)
def test_cross_entropy_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """cross_entropy of random batches and labels, a scalar mean"""
    for dtype, label_dtype in (("float32", "int32"), ("float32", "int64"), ("float64", "int32")):
        m, k = int(hidden_rng.integers(2, 20)), int(hidden_rng.integers(2, 10))
        x = logits(hidden_rng, (m, k), dtype)
        labels = hidden_rng.integers(0, k, size=m).astype(label_dtype)
        check(sub, "cross_entropy", [x, labels], reference.cross_entropy(x, labels),
              reference.cross_entropy_mistakes(x, labels),
              f"cross_entropy(logits, labels) for {dtype} logits of shape {x.shape}", dtype,
              shape_hints={(m,): "return one number: the mean over the examples, shape ()",
                           (1,): KEEPDIMS})
