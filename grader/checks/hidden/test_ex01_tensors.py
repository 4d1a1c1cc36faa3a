"""Hidden checks for ex01: `describe` on tensors of random rank, shape and dtype."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.hidden import reference
from grader.checks.public.test_ex01_tensors import check_describe
from grader.checks.support import brief

pytestmark = pytest.mark.exercise("ex01")

NUMERIC = ("float32", "float64", "int32", "int64", "uint8", "bool")


def random_shape(rng: np.random.Generator, rank: int) -> tuple[int, ...]:
    return tuple(int(n) for n in rng.integers(1, 5, size=rank))


@pytest.mark.points(3)
def test_describe_random_numeric_tensors(sub: Any, hidden_rng: np.random.Generator) -> None:
    """describe() on numeric tensors of random rank (0 to 4), shape and dtype"""
    for rank, dtype in zip(rng_ranks(hidden_rng), hidden_rng.permutation(NUMERIC), strict=True):
        shape = random_shape(hidden_rng, rank)
        tensor = np.abs(hidden_rng.normal(size=shape) * 10).astype(str(dtype))
        check_describe(sub.ex01.describe(tensor), list(reference.describe(tensor)),
                       f"describe(a {dtype} tensor of shape {shape})")


def rng_ranks(rng: np.random.Generator) -> list[int]:
    """Every rank from 0 to 4 once, plus one more, in random order."""
    return [int(r) for r in rng.permutation([0, 1, 2, 3, 4, int(rng.integers(0, 5))])]


@pytest.mark.points(2)
def test_describe_random_strings_and_empty(sub: Any, hidden_rng: np.random.Generator) -> None:
    """describe() on string tensors of random shape and on an empty tensor"""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    shape = random_shape(hidden_rng, int(hidden_rng.integers(1, 4)))
    words = np.array(["".join(hidden_rng.choice(letters, size=int(hidden_rng.integers(1, 8))))
                      for _ in range(int(np.prod(shape)))]).reshape(shape)
    check_describe(sub.ex01.describe(words), list(reference.describe(words)),
                   f"describe({brief(words)})")
    empty = np.zeros((0, int(hidden_rng.integers(1, 6))), dtype=np.float32)
    check_describe(sub.ex01.describe(empty), list(reference.describe(empty)),
                   f"describe(an empty tensor of shape {empty.shape})")
