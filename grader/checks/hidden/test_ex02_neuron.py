"""Hidden checks for ex02: both neuron forms on random inputs of random length."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.hidden import reference
from grader.checks.public.test_ex02_neuron import matmul_hint, name_square, require_sum_form, shape_hints
from grader.checks.support import Activation, brief, expect_values, shape_errors

pytestmark = pytest.mark.exercise("ex02")

ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu")


def check_random(sub: Any, function: str, rng: np.random.Generator) -> None:
    if function == "neuron_sum":
        require_sum_form(sub)
    for name in ACTIVATIONS:
        n = int(rng.integers(2, 40))
        x, w = (rng.normal(size=(1, n)).astype(np.float32) for _ in range(2))
        b = rng.normal(size=(1, 1)).astype(np.float32)
        what = f"{function}(x, w, b, {name}) with x of shape (1, {n}), b = {brief(b)}"
        with shape_errors(what, matmul_hint(n)):
            got = getattr(sub.ex02, function)(x, w, b, Activation(name))
        name_square(got, x, w, b, name, what)
        expect_values(got, reference.neuron(x, w, b, name), what,
                      mistakes=reference.neuron_mistakes(x, w, b, name), shape_hints=shape_hints(n),
                      rtol=1e-4, atol=1e-4)


@pytest.mark.points(2)
def test_neuron_sum_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """neuron_sum on random inputs with each activation"""
    check_random(sub, "neuron_sum", hidden_rng)


@pytest.mark.points(3)
def test_neuron_matmul_random(sub: Any, hidden_rng: np.random.Generator) -> None:
    """neuron_matmul on random inputs with each activation"""
    check_random(sub, "neuron_matmul", hidden_rng)
