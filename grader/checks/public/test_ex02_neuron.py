"""Public checks for ex02 (one neuron): the sum form and the matrix-product form.

Inputs, expected values and the values of typical mistakes come from
expected_ex02.json, generated from the solutions.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.checks.support import Activation, array_of, brief, expect_values, load_expected, shape_errors

pytestmark = pytest.mark.exercise("ex02")

CASES = load_expected("ex02")["cases"]


def shape_hints(n: int) -> dict[tuple[int, ...], str]:
    """What a wrong shape says about the learner's code, for inputs of length n."""
    return {
        (n, n): f"x * w^T broadcasts (1, {n}) against ({n}, 1) into ({n}, {n}); use a matrix "
                f"product: tf.matmul(x, tf.transpose(w)), shape (1, {n}) @ ({n}, 1) = (1, 1)",
        (1, n): "you multiplied entry by entry but did not add the products up: "
                "tf.reduce_sum(x * w, axis=1, keepdims=True)",
        (1,): "keep the summed axis: tf.reduce_sum(..., axis=1, keepdims=True) gives shape (1, 1)",
        (): "keep both axes: tf.reduce_sum(..., axis=1, keepdims=True) gives shape (1, 1)",
    }


def matmul_hint(n: int) -> str:
    return (f"x and w both have shape (1, {n}), and tf.matmul(x, w) needs the inner lengths to "
            f"match: transpose w first, tf.matmul(x, tf.transpose(w)) is (1, {n}) @ ({n}, 1) = (1, 1)")


def check_neuron(sub: Any, function: str, case: dict[str, Any], *, expected_key: str = "expected",
                 hint: str | None = None) -> None:
    x, w, b = (array_of(case[k]) for k in ("x", "w", "b"))
    what = f"{function}(x, w, b, {case['activation']}) with x = {brief(x)}, w = {brief(w)}, b = {brief(b)}"
    with shape_errors(what, matmul_hint(x.shape[1])):
        got = getattr(sub.ex02, function)(x, w, b, Activation(case["activation"]))
    expect_values(got, case[expected_key], what, mistakes=case["mistakes"],
                  shape_hints=shape_hints(x.shape[1]), hint=hint)


@pytest.mark.points(2)
def test_neuron_sum_identity(sub: Any) -> None:
    """neuron_sum with the identity activation is sum(x*w) + b, shape (1, 1)"""
    check_neuron(sub, "neuron_sum", CASES["identity"],
                 hint="z = tf.reduce_sum(x * w, axis=1, keepdims=True) + b")


@pytest.mark.points(3)
def test_neuron_sum_activations(sub: Any) -> None:
    """neuron_sum applies sigmoid, tanh and relu to the weighted sum plus bias"""
    for name in ("sigmoid", "tanh", "relu"):
        check_neuron(sub, "neuron_sum", CASES[name], hint="return activation(z) for z = sum(x*w) + b")


@pytest.mark.points(2)
def test_neuron_matmul_identity(sub: Any) -> None:
    """neuron_matmul with the identity activation is x @ w^T + b, shape (1, 1)"""
    check_neuron(sub, "neuron_matmul", CASES["identity"], expected_key="expected_matmul",
                 hint="z = tf.matmul(x, tf.transpose(w)) + b")


@pytest.mark.points(3)
def test_neuron_matmul_activations(sub: Any) -> None:
    """neuron_matmul applies sigmoid, tanh and relu, and agrees with neuron_sum"""
    for name in ("sigmoid", "tanh", "relu"):
        check_neuron(sub, "neuron_matmul", CASES[name], expected_key="expected_matmul",
                     hint="return activation(tf.matmul(x, tf.transpose(w)) + b)")


