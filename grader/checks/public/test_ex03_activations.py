"""Public checks for ex03 (activations built by hand): sigmoid, tanh, relu, softmax.

Each value check first looks for the ready-made versions in the learner's
source (through `ast`): using tf.nn.softmax costs the softmax points, not the relu ones.
Inputs, expected values and the values of typical mistakes come from expected_ex03.json.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.support import (
    array_of,
    brief,
    check_forbidden,
    check_tripwire,
    expect_softmax,
    expect_values,
    load_expected,
)

pytestmark = pytest.mark.exercise("ex03")

EXPECTED = load_expected("ex03")

BANNED = (
    "tensorflow.nn", "tensorflow.math.sigmoid", "tensorflow.math.tanh", "tensorflow.math.softmax",
    "tensorflow.math.log_softmax", "tensorflow.math.log_sigmoid", "tensorflow.sigmoid",
    "tensorflow.tanh", "tensorflow.math.softplus", "tensorflow.python", "tensorflow.raw_ops",
    "tensorflow.experimental.numpy.tanh", "keras.activations",
    "keras.layers", "keras.ops.sigmoid", "keras.ops.tanh", "keras.ops.relu", "keras.ops.softmax",
    "keras.ops.log_softmax", "keras.ops.nn", "numpy.tanh", "scipy.special", "jax.nn", "torch",
)
LESSONS = {
    "sigmoid": "build sigmoid from tf.exp and arithmetic: 1 / (1 + tf.exp(-x))",
    "tanh": "build tanh from tf.exp, tf.abs and tf.sign: sign(x) * (1 - exp(-2|x|)) / (1 + exp(-2|x|))",
    "relu": "build relu from tf.maximum(x, tf.zeros_like(x))",
    "softmax": "build softmax from tf.exp and tf.reduce_sum (and tf.reduce_max)",
}
TANH_SAFE = "compute it at |x| and put the sign back: sign(x) * (1 - exp(-2|x|)) / (1 + exp(-2|x|))"
#: Which tanh formula overflows, told apart by the sign of the x where the nan or inf appears.
TANH_OVERFLOW = {
    "negative": "(1 - exp(-2x)) / (1 + exp(-2x)) is safe only for x >= 0: for large negative x "
                "(x = -100) exp(-2x) = exp(200) overflows to inf, and (1 - inf) / (1 + inf) is nan; "
                + TANH_SAFE,
    "positive": "(exp(2x) - 1) / (exp(2x) + 1) is safe only for x <= 0: for large positive x "
                "(x = 100) exp(2x) = exp(200) overflows to inf, and inf / inf is nan; " + TANH_SAFE,
}
OVERFLOW = {
    "tanh": "the textbook formula (e^x - e^-x) / (e^x + e^-x) overflows for large |x|: "
            "exp(100) is inf and inf / inf is nan; " + TANH_SAFE,
    "sigmoid": "exp(-x) overflows for very negative x; 1 / (1 + inf) is 0, but inf / inf is nan: "
               "keep the form 1 / (1 + tf.exp(-x))",
}


def check_activation(sub: Any, name: str, x: Any, expected: Any, mistakes: Any = None,
                     what: str | None = None, **tolerance: Any) -> Any:
    """Forbidden APIs first, then the learner's values against the expected ones."""
    check_forbidden(sub, "ex03", BANNED, name, LESSONS[name])
    got = getattr(sub.ex03, name)(x)
    check_tripwire(sub, BANNED, name, LESSONS[name])
    return expect_values(got, expected, what or f"{name}(x) with x = {brief(x)}", mistakes=mistakes,
                         nonfinite_hint=overflow_hint(name, x, got), **tolerance)


def overflow_hint(name: str, x: Any, got: Any) -> str | None:
    """The overflow hint for `name`; for tanh, the one for the formula that breaks on that side."""
    if name != "tanh":
        return OVERFLOW.get(name)
    try:
        values, inputs = np.asarray(got, dtype=np.float64), np.asarray(x, dtype=np.float64)
        broken = inputs[~np.isfinite(values)] if values.shape == inputs.shape else inputs[:0]
    except (TypeError, ValueError):
        return OVERFLOW["tanh"]
    if broken.size and np.all(broken < 0):
        return TANH_OVERFLOW["negative"]
    if broken.size and np.all(broken > 0):
        return TANH_OVERFLOW["positive"]
    return OVERFLOW["tanh"]


def public_case(sub: Any, case: str, name: str) -> Any:
    data = EXPECTED[case]
    return check_activation(sub, name, array_of(data["x"]), data["expected"], data["mistakes"])


@pytest.mark.points(2)
def test_sigmoid(sub: Any) -> None:
    """sigmoid(x) = 1 / (1 + exp(-x)), including x = -100 and 100"""
    public_case(sub, "sigmoid", "sigmoid")


@pytest.mark.points(2)
def test_tanh(sub: Any) -> None:
    """tanh(x) lies in (-1, 1) and stays finite for x = -100 and 100"""
    public_case(sub, "tanh", "tanh")


@pytest.mark.points(2)
def test_relu(sub: Any) -> None:
    """relu(x) = max(x, 0)"""
    public_case(sub, "relu", "relu")


def check_softmax(sub: Any, x: Any, expected: Any, mistakes: Any, what: str | None = None) -> Any:
    check_forbidden(sub, "ex03", BANNED, "softmax", LESSONS["softmax"])
    got = sub.ex03.softmax(x)
    check_tripwire(sub, BANNED, "softmax", LESSONS["softmax"])
    what = what or f"softmax(x) with x = {brief(x)}"
    return expect_softmax(got, expected, what, mistakes=mistakes)


@pytest.mark.points(2)
def test_softmax_batch(sub: Any) -> None:
    """softmax of a (3, 4) batch: every row sums to 1, normalised over the last axis"""
    data = EXPECTED["softmax_rank2"]
    check_softmax(sub, array_of(data["x"]), data["expected"], data["mistakes"])


@pytest.mark.points(2)
def test_softmax_rank1_and_rank3(sub: Any) -> None:
    """softmax of a single vector (rank 1) and of a rank-3 tensor, over the last axis"""
    for case in ("softmax_rank1", "softmax_rank3"):
        data = EXPECTED[case]
        check_softmax(sub, array_of(data["x"]), data["expected"], data["mistakes"])
