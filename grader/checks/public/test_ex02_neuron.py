"""Public checks for ex02 (one neuron): the sum form and the matrix-product form.

Inputs, expected values and the values of typical mistakes come from
expected_ex02.json, generated from the solutions.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from grader.checks.support import (Activation, CheckFailure, array_of, brief, check_forbidden, expect_values,
                                   load_expected, shape_errors, show)

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


#: What neuron_sum may not use: the lesson asks for x * w and a sum, no matrix product.
MATMUL = ("tensorflow.matmul", "tensorflow.linalg.matmul", "tensorflow.tensordot",
          "tensorflow.linalg.tensordot", "tensorflow.einsum", "tensorflow.linalg.einsum",
          "tensorflow.linalg.matvec", "keras.ops.matmul", "keras.ops.dot", "keras.ops.tensordot",
          "numpy.matmul", "numpy.dot")
NO_MATMUL = "neuron_sum is the sum form, not a matrix product: multiply entry by entry (x * w) and add up with tf.reduce_sum"

_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda z: z, "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0)}


def require_sum_form(sub: Any) -> None:
    """neuron_sum uses no matrix product: no tf.matmul (and the like), and no `@` operator."""
    check_forbidden(sub, "ex02", MATMUL, "neuron_sum", NO_MATMUL)
    source = sub.source("ex02") if hasattr(sub, "source") else sub.ex02.source
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == "neuron_sum":
            if any(isinstance(op, ast.MatMult) for op in ast.walk(node)):
                raise CheckFailure("neuron_sum uses the matrix product operator `@`: " + NO_MATMUL,
                                   hint="keep the matrix product for neuron_matmul, which comes next")


def name_square(got: Any, x: np.ndarray, w: np.ndarray, b: np.ndarray, activation: str, what: str) -> None:
    """An (n, n) result: the matrix product x^T w (an outer product), named as such."""
    n = x.shape[1]
    if not (isinstance(got, np.ndarray) and got.shape == (n, n) and n > 1 and got.dtype.kind == "f"):
        return
    f = _ACTIVATIONS.get(activation)
    x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
    if f is None or not np.allclose(got, f(x64.T @ w64 + b64), rtol=1e-4, atol=1e-5) \
            or np.allclose(got, f(x64 * w64.T + b64), rtol=1e-4, atol=1e-5):
        return
    raise CheckFailure(
        f"{what}: your result matches tf.matmul(tf.transpose(x), w), a matrix product ({n}, 1) @ "
        f"(1, {n}) = ({n}, {n}): a table of every x_i * w_j (an outer product), not their sum",
        expected="shape (1, 1)", got=f"shape ({n}, {n}): {show(got)}",
        hint=f"a weighted sum is a ROW times a COLUMN, (1, {n}) @ ({n}, 1) = (1, 1): transpose w, not x")


def check_neuron(sub: Any, function: str, case: dict[str, Any], *, expected_key: str = "expected",
                 hint: str | None = None) -> None:
    x, w, b = (array_of(case[k]) for k in ("x", "w", "b"))
    what = f"{function}(x, w, b, {case['activation']}) with x = {brief(x)}, w = {brief(w)}, b = {brief(b)}"
    if function == "neuron_sum":
        require_sum_form(sub)
    with shape_errors(what, matmul_hint(x.shape[1])):
        got = getattr(sub.ex02, function)(x, w, b, Activation(case["activation"]))
    name_square(got, x, w, b, case["activation"], what)
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


