"""Public checks for ex04 (layers in matrix form): dense, forward, init_params.

Inputs, expected values and the values of typical mistakes for dense and
forward come from expected_ex04.json; init_params is checked by its
properties (shapes, zero biases, spread, determinism).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.support import (
    Activation,
    CheckFailure,
    array_of,
    brief,
    expect_values,
    load_expected,
    shape_errors,
    show,
)

pytestmark = pytest.mark.exercise("ex04")

EXPECTED = load_expected("ex04")
INIT_SIZES = [300, 200, 10]


SHAPES_HINT = ("x is (m, n) = ({m}, {n}) and W is (n, k) = ({n}, {k}), so x @ W is (m, k) = ({m}, {k}) "
               "as it stands: use tf.matmul(x, W) + b, with no transpose")


def check_dense(sub: Any, x: Any, W: Any, b: Any, activation: str, expected: Any, mistakes: Any,
                what: str | None = None, **tolerance: Any) -> None:
    what = what or f"dense(x, W, b, {activation}) with x = {brief(x)}, W = {brief(W)}, b = {brief(b)}"
    m, n, k = x.shape[0], x.shape[1], W.shape[1]
    with shape_errors(what, SHAPES_HINT.format(m=m, n=n, k=k)):
        got = sub.ex04.dense(x, W, b, Activation(activation))
    expect_values(got, expected, what, mistakes=mistakes, hint="activation(tf.matmul(x, W) + b)",
                  shape_hints={(k, m): f"the result has one row per example: shape ({m}, {k}) = "
                                       f"(m, n) @ (n, k); compute x @ W, not W^T @ x^T"},
                  **tolerance)


def dense_case(sub: Any, case: str) -> None:
    data = EXPECTED[case]
    x, W, b = (array_of(data[key]) for key in ("x", "W", "b"))
    check_dense(sub, x, W, b, data["activation"], data["expected"], data["mistakes"])


@pytest.mark.points(2)
def test_dense_identity(sub: Any) -> None:
    """dense(x, W, b, identity) is x @ W + b for a batch of 3 examples"""
    dense_case(sub, "dense_identity")


@pytest.mark.points(1)
def test_dense_activations(sub: Any) -> None:
    """dense applies relu, sigmoid and softmax to x @ W + b"""
    for name in ("relu", "sigmoid", "softmax"):
        dense_case(sub, f"dense_{name}")


@pytest.mark.points(1)
def test_dense_square_weights(sub: Any) -> None:
    """dense with a square W uses W as given (column j holds neuron j's weights)"""
    dense_case(sub, "dense_square")


def check_forward(sub: Any, x: Any, params: list[tuple[Any, Any]], names: list[str], expected: Any,
                  mistakes: Any, what: str, **tolerance: Any) -> None:
    with shape_errors(what, "each layer's output (m, n_i) feeds the next W_(i+1), of shape (n_i, "
                            "n_(i+1)): h = f_i(tf.matmul(h, W_i) + b_i), with no transpose"):
        got = sub.ex04.forward(x, params, [Activation(n) for n in names])
    first = (x.shape[0], params[0][0].shape[1])
    hints: dict[tuple[int, ...], str] = {} if len(params) == 1 else {
        first: "your result has the shape of the FIRST layer's output: feed each layer's output "
               "into the next one (h = dense(h, W, b, f) inside the loop) and return the last"}
    expect_values(got, expected, what, mistakes=mistakes, shape_hints=hints,
                  hint="h = x; for (W, b), f in zip(params, activations): h = f(h @ W + b)",
                  **tolerance)


@pytest.mark.points(3)
def test_forward_one_to_three_layers(sub: Any) -> None:
    """forward through 1, 2 and 3 stacked layers, each with its own activation"""
    for case in ("forward_1", "forward_2", "forward_3"):
        data = EXPECTED[case]
        x = array_of(data["x"])
        params = [(array_of(W), array_of(b)) for W, b in data["params"]]
        shapes = " -> ".join(str(W.shape) for W, _ in params)
        what = f"forward(x, params, {data['activations']}) with W shapes {shapes}"
        check_forward(sub, x, params, data["activations"], data["expected"], data["mistakes"], what)


# ---------------------------------------------------------------- init_params


def get_params(sub: Any, sizes: list[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """init_params(sizes, seed) as (W, b) arrays, or a failure saying what came back."""
    what = f"init_params({sizes}, seed={seed})"
    got = sub.ex04.init_params(sizes, seed)
    layers = len(sizes) - 1
    if not isinstance(got, (list, tuple)):
        raise CheckFailure(f"{what} must return a list of (W, b) pairs", got=show(got),
                           hint="params = []; params.append((W, b)) for each layer; return params")
    if len(got) != layers:
        raise CheckFailure(f"{what} must return one (W, b) pair per layer",
                           expected=f"{layers} pairs (len(sizes) - 1)", got=f"{len(got)} items")
    pairs = []
    for index, pair in enumerate(got):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise CheckFailure(f"{what}: item {index} must be a pair (W, b)", got=show(pair))
        W, b = pair
        fan_in, fan_out = sizes[index], sizes[index + 1]
        for name, value, shape in (("W", W, (fan_in, fan_out)), ("b", b, (fan_out,))):
            if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
                raise CheckFailure(f"{what}: {name}{index + 1} must be a float tensor", got=show(value))
            if value.shape != shape:
                hint = (f"W{index + 1} connects {fan_in} inputs to {fan_out} neurons: shape "
                        f"(n_in, n_out) = {shape}; yours is transposed" if value.shape == shape[::-1]
                        else f"{name}{index + 1} must have shape {shape}")
                raise CheckFailure(f"{what}: {name}{index + 1} has the wrong shape",
                                   expected=f"shape {shape}", got=f"shape {value.shape}", hint=hint)
            if value.dtype != np.float32:
                raise CheckFailure(f"{what}: {name}{index + 1} has dtype {value.dtype}",
                                   expected="float32", got=str(value.dtype),
                                   hint="the inputs are float32, and tf.matmul needs both sides "
                                        "in the same dtype: use dtype=tf.float32")
        pairs.append((W, b))
    return pairs


def check_init(pairs: list[tuple[np.ndarray, np.ndarray]], sizes: list[int], what: str,
               tolerance: float = 0.15) -> None:
    """Zero biases, mean about 0 and standard deviation about 1/sqrt(fan_in)."""
    for index, (W, b) in enumerate(pairs, start=1):
        fan_in, fan_out = sizes[index - 1], sizes[index]
        if np.any(b != 0):
            raise CheckFailure(f"{what}: b{index} is not all zeros", expected="zeros",
                               got=show(b), hint="biases start at 0: tf.zeros((n_out,))")
        target, std = 1.0 / np.sqrt(fan_in), float(W.astype(np.float64).std())
        mean = float(W.astype(np.float64).mean())
        if abs(mean) > 0.1 * target + 4 * target / np.sqrt(W.size):
            raise CheckFailure(f"{what}: W{index} should have mean about 0", got=f"mean {mean:.4g}",
                               hint="draw from a normal distribution centred at 0")
        if abs(std / target - 1) <= tolerance:
            continue
        hints = [
            (1.0 / np.sqrt(fan_out), "you scaled by the fan-out (n_out, the columns); use the "
                                     "fan-in, n_in, the number of rows of W"),
            (1.0, "the weights are not scaled: multiply by 1/sqrt(fan_in)"),
            (1.0 / fan_in, "1/fan_in is the variance; the standard deviation is 1/sqrt(fan_in)"),
            (np.sqrt(2.0 / fan_in), "sqrt(2/fan_in) is He initialisation; this exercise asks "
                                    "for 1/sqrt(fan_in)"),
            (target / np.sqrt(3.0), "a uniform draw on [-s, s] has std s/sqrt(3); draw from a "
                                    "normal distribution with stddev=1/sqrt(fan_in)"),
        ]
        hint = next((h for value, h in hints if abs(std / value - 1) <= 0.08),
                    "stddev = 1 / sqrt(n_in), where n_in = sizes[i] is the layer's fan-in")
        raise CheckFailure(f"{what}: W{index} has the wrong spread",
                           expected=f"standard deviation about 1/sqrt({fan_in}) = {target:.4f}",
                           got=f"standard deviation {std:.4f}", hint=hint)


@pytest.mark.points(1)
def test_init_params_shapes_and_zero_biases(sub: Any) -> None:
    """init_params returns one (W, b) per layer: W (n_in, n_out) float32, b (n_out,) zeros"""
    pairs = get_params(sub, INIT_SIZES, 0)
    for index, (_, b) in enumerate(pairs, start=1):
        if np.any(b != 0):
            raise CheckFailure(f"init_params({INIT_SIZES}, seed=0): b{index} is not all zeros",
                               expected="zeros", got=show(b), hint="biases start at 0: tf.zeros((n_out,))")


@pytest.mark.points(1)
def test_init_params_spread(sub: Any) -> None:
    """init_params draws W with mean 0 and standard deviation 1/sqrt(fan_in)"""
    check_init(get_params(sub, INIT_SIZES, 1), INIT_SIZES, f"init_params({INIT_SIZES}, seed=1)")


def check_determinism(sub: Any, sizes: list[int], seed: int) -> None:
    first, again, other = (get_params(sub, sizes, s) for s in (seed, seed, seed + 1))
    what = f"init_params({sizes}, seed)"
    if not all(np.array_equal(a[0], b[0]) for a, b in zip(first, again, strict=True)):
        raise CheckFailure(f"{what}: the same seed gave different weights",
                           expected="identical weights for two calls with the same seed",
                           hint="derive every random number from `seed`, e.g. "
                                "tf.random.stateless_normal(shape, seed=[seed, layer_index])")
    if all(np.array_equal(a[0], b[0]) for a, b in zip(first, other, strict=True)):
        raise CheckFailure(f"{what}: seeds {seed} and {seed + 1} gave the same weights",
                           expected="different weights for a different seed",
                           hint="use the `seed` argument when you draw the weights")


@pytest.mark.points(1)
def test_init_params_is_repeatable(sub: Any) -> None:
    """init_params gives the same weights for the same seed and new ones for another seed"""
    check_determinism(sub, [8, 6, 4], 3)
