"""Exercise 6 (backpropagation by hand): hidden checks.

Shapes and values are drawn from the secret seed, so a backward pass that only
works for the public example (hard-coded sizes, a batch of a fixed size) fails
here. Expected values come from tf.GradientTape in this process, as in the
public checks, whose helpers (and diagnoses) are reused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.public.test_ex06_backprop import check_all, make_problem, require_by_hand

pytestmark = pytest.mark.exercise("ex06")


@pytest.mark.points(3)
def test_random_shapes(sub: Any, hidden_rng: np.random.Generator) -> None:
    """loss and all four gradients match tf.GradientTape for new sizes and values"""
    m, n, h, k = (int(hidden_rng.integers(lo, hi)) for lo, hi in ((7, 20), (2, 7), (3, 9), (2, 6)))
    params, x, y = make_problem(hidden_rng, m, n, h, k, scale=float(hidden_rng.uniform(0.5, 2.0)))
    require_by_hand(sub)
    check_all(sub, params, x, y, keys=("loss", "W1", "b1", "W2", "b2"))


@pytest.mark.points(2)
def test_one_example_and_a_large_batch(sub: Any, hidden_rng: np.random.Generator) -> None:
    """the gradients are right for a batch of one example and for a batch of 64"""
    require_by_hand(sub)
    n, h, k = (int(hidden_rng.integers(lo, hi)) for lo, hi in ((2, 6), (3, 8), (2, 5)))
    for m in (1, 64):
        params, x, y = make_problem(hidden_rng, m, n, h, k)
        check_all(sub, params, x, y, keys=("loss", "W1", "b1", "W2", "b2"))
