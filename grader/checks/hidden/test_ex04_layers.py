"""Hidden checks for ex04: dense and forward on random shapes, init_params on random sizes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.hidden import reference
from grader.checks.public.test_ex04_layers import (
    check_dense,
    check_determinism,
    check_forward,
    check_init,
    get_params,
)

pytestmark = pytest.mark.exercise("ex04")

ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "softmax")


def normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (rng.normal(size=shape) * scale).astype(np.float32)


@pytest.mark.points(2)
def test_dense_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """dense on random batches and layer sizes with each activation"""
    for name in ACTIVATIONS:
        m, n, k = (int(v) for v in hidden_rng.integers(1, 9, size=3))
        x, W, b = normal(hidden_rng, m, n), normal(hidden_rng, n, k), normal(hidden_rng, k)
        check_dense(sub, x, W, b, name, reference.dense(x, W, b, name),
                    reference.dense_mistakes(x, W, b, name),
                    what=f"dense(x, W, b, {name}) with x {x.shape}, W {W.shape}", atol=1e-4)


@pytest.mark.points(2)
def test_forward_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """forward through 1 to 4 random layers with random activations"""
    for depth in hidden_rng.permutation([1, 2, 3, 4]):
        sizes = [int(v) for v in hidden_rng.integers(2, 9, size=int(depth) + 1)]
        params = [(normal(hidden_rng, n, k, scale=0.7), normal(hidden_rng, k, scale=0.3))
                  for n, k in zip(sizes, sizes[1:], strict=False)]
        names = [str(hidden_rng.choice(ACTIVATIONS)) for _ in params]
        x = normal(hidden_rng, int(hidden_rng.integers(1, 6)), sizes[0])
        check_forward(sub, x, params, names, reference.forward(x, params, names),
                      reference.forward_mistakes(x, params, names),
                      f"forward(x, params, {names}) with sizes {sizes}", atol=1e-4)


@pytest.mark.points(1)
def test_init_params_random_sizes(sub: Any, hidden_rng: np.random.Generator) -> None:
    """init_params on random layer sizes: shapes, zero biases, spread, repeatability"""
    sizes = [int(v) for v in hidden_rng.integers(40, 400, size=int(hidden_rng.integers(2, 5)))]
    seed = int(hidden_rng.integers(0, 10_000))
    check_init(get_params(sub, sizes, seed), sizes, f"init_params({sizes}, seed={seed})")
    check_determinism(sub, sizes[:3], seed)
