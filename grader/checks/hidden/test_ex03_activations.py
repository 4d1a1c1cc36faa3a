"""Hidden checks for ex03: the activations on random tensors, in float32 and float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.hidden import reference
from grader.checks.public.test_ex03_activations import check_activation, check_softmax
from grader.checks.support import brief, expect_dtype

pytestmark = pytest.mark.exercise("ex03")


def random_tensor(rng: np.random.Generator, dtype: str, rank: int | None = None,
                  scales: tuple[float, ...] = (1.0, 5.0, 30.0)) -> np.ndarray:
    """A tensor of random rank (1 to 3) and shape holding both negative and positive values."""
    rank = int(rng.integers(1, 4)) if rank is None else rank
    shape = tuple(int(n) for n in rng.integers(2, 6, size=rank))
    x = rng.normal(size=shape) * rng.choice(scales)
    if rank:
        x.flat[0], x.flat[1] = -abs(x.flat[0]), abs(x.flat[1])
    return x.astype(dtype)


def check_random(sub: Any, name: str, rng: np.random.Generator) -> None:
    for dtype, rank in (("float32", 0), ("float32", None), ("float64", None)):
        x = random_tensor(rng, dtype, rank)
        what = f"{name}(x) for a {dtype} x of shape {x.shape}"
        got = check_activation(sub, name, x, getattr(reference, name)(x),
                               reference.activation_mistakes(name, x), what=what, atol=1e-6)
        expect_dtype(got, dtype, what)


def check_extremes(sub: Any, name: str, rng: np.random.Generator) -> None:
    """Both signs, far beyond where exp overflows: |x| in 60..400 (float32), 400..1000 (float64)."""
    for dtype, low, high in (("float32", 60.0, 400.0), ("float64", 400.0, 1000.0)):
        x = rng.uniform(low, high, size=int(rng.integers(4, 9))) * rng.choice([-1.0, 1.0], size=1)
        x[: len(x) // 2] *= -1.0  # some negative, some positive
        x = x.astype(dtype)
        what = f"{name}(x) for a {dtype} x with large values of both signs, {brief(x)}"
        got = check_activation(sub, name, x, getattr(reference, name)(x),
                               reference.activation_mistakes(name, x), what=what, atol=1e-6)
        expect_dtype(got, dtype, what)


@pytest.mark.points(2)
def test_sigmoid_and_tanh_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """sigmoid and tanh on random tensors of any rank, float32 and float64, and far out on both sides"""
    check_random(sub, "sigmoid", hidden_rng)
    check_random(sub, "tanh", hidden_rng)
    check_extremes(sub, "sigmoid", hidden_rng)
    check_extremes(sub, "tanh", hidden_rng)


@pytest.mark.points(1)
def test_relu_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """relu on random tensors of any rank, float32 and float64"""
    check_random(sub, "relu", hidden_rng)


@pytest.mark.points(2)
def test_softmax_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """softmax over the last axis of random batches, float32 and float64"""
    for dtype in ("float32", "float32", "float64"):
        x = random_tensor(hidden_rng, dtype, scales=(1.0, 4.0))  # exp stays finite
        what = f"softmax(x) for a {dtype} x of shape {x.shape}"
        mistakes = reference.activation_mistakes("softmax", x)
        expect_dtype(check_softmax(sub, x, reference.softmax(x), mistakes, what), dtype, what)
