"""Public checks for ex05 (stable softmax): logsumexp, stable_softmax, log_softmax, cross_entropy.

The inputs include scores of +-1000 and float32's largest values (+-3.4e38),
where the textbook formulas overflow or underflow. Each value check first
looks for the ready-made shortcuts (tf.nn, reduce_logsumexp) through `ast`.
Inputs, expected values and typical mistakes' values come from expected_ex05.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from grader.checks.support import (
    OVERFLOW_HINT,
    UNDERFLOW_HINT,
    array_of,
    as_array,
    brief,
    check_forbidden,
    check_tripwire,
    expect_dtype,
    expect_softmax,
    expect_values,
    load_expected,
)

pytestmark = pytest.mark.exercise("ex05")

EXPECTED = load_expected("ex05")

BANNED = (
    "tensorflow.nn", "tensorflow.math.softmax", "tensorflow.math.log_softmax",
    "tensorflow.math.reduce_logsumexp", "tensorflow.reduce_logsumexp", "tensorflow.python",
    "tensorflow.raw_ops",
    "tensorflow.losses", "tensorflow.experimental.numpy.logaddexp", "keras.activations",
    "keras.losses", "keras.layers", "keras.ops.softmax", "keras.ops.log_softmax",
    "keras.ops.logsumexp", "keras.ops.nn", "keras.ops.sparse_categorical_crossentropy",
    "keras.ops.categorical_crossentropy", "scipy.special", "jax.nn", "jax.scipy", "torch",
)
LESSONS = {
    "logsumexp": "compute m + log(sum(exp(x - m))) with tf.reduce_max, tf.exp, tf.reduce_sum "
                 "and tf.math.log",
    "stable_softmax": "subtract the row max, then use tf.exp and tf.reduce_sum",
    "log_softmax": "compute (x - m) - log(sum(exp(x - m))) with tf.exp, tf.reduce_sum and tf.math.log",
    "cross_entropy": "use your own log_softmax, tf.gather and tf.reduce_mean",
}
FUNCTIONS = tuple(LESSONS)
#: What to try when a function's values are wrong and no known mistake matches.
VALUE_HINTS = {
    "logsumexp": "logsumexp(x) = m + log(sum(exp(x - m))), with m = tf.reduce_max(x, axis=axis, "
                 "keepdims=True) and every reduction over `axis`",
    "stable_softmax": "exp(x - m) / sum(exp(x - m)) over the last axis, m = the row max "
                      "(tf.reduce_max(x, axis=-1, keepdims=True))",
    "log_softmax": "log_softmax = (x - m) - log(sum(exp(x - m))) over the last axis, m = the row max",
    "cross_entropy": "loss = -mean over rows r of log_softmax(logits)[r, labels[r]]; check that "
                     "your log_softmax passes its checks first",
}


LSE_OVERFLOW_HINT = (
    "exp(1000) overflows float32 to inf, so log(sum(exp(x))) is inf (and exp(-1000) underflows to "
    "0, whose log is -inf): take m = the max along `axis` first, and compute "
    "logsumexp(x) = m + log(sum(exp(x - m))), where every exponent is <= 0"
)


def finite_hint(got: Any, function: str = "") -> str:
    """-inf comes from log(0) (underflow); nan and +inf from exp overflowing; logsumexp has its own."""
    if function == "logsumexp":
        return LSE_OVERFLOW_HINT
    if isinstance(got, np.ndarray) and got.dtype.kind == "f" and np.isneginf(got).any() \
            and not np.isnan(got).any():
        return UNDERFLOW_HINT
    return OVERFLOW_HINT


def call(sub: Any, function: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> Any:
    """Forbidden shortcuts first, then the learner's function."""
    check_forbidden(sub, "ex05", BANNED, function, LESSONS[function])
    got = getattr(sub.ex05, function)(*args, **(kwargs or {}))
    check_tripwire(sub, BANNED, function, LESSONS[function])
    return got


def describe_call(function: str, args: list[np.ndarray], kwargs: dict[str, Any] | None) -> str:
    shown = ", ".join([brief(a) for a in args] + [f"{k}={v}" for k, v in (kwargs or {}).items()])
    return f"{function}({shown})"


def check_case(sub: Any, case: str, function: str,
               shape_hints: Mapping[tuple[int, ...], str] | None = None,
               hint: str | None = None, label_dtype: str | None = None) -> np.ndarray:
    data = EXPECTED[case]
    args = [array_of(a["values"], a["dtype"]) for a in data["args"]]
    if label_dtype is not None:  # the lesson allows int32 or int64 labels: the same case in int64
        args[-1] = args[-1].astype(label_dtype)
    kwargs = data.get("kwargs")
    got = call(sub, function, args, kwargs)
    what = describe_call(function, args, kwargs) + (f" with {label_dtype} labels" if label_dtype else "")
    compare = expect_softmax if function == "stable_softmax" else expect_values
    return compare(got, data["expected"], what, mistakes=data["mistakes"], shape_hints=shape_hints,
                   hint=hint or VALUE_HINTS[function], nonfinite_hint=finite_hint(got, function))


KEEPDIMS = "the reduced axis must disappear: reduce without keepdims (or tf.squeeze the max)"


@pytest.mark.points(1)
def test_logsumexp(sub: Any) -> None:
    """logsumexp over the last axis, over axis=0, and of a single vector (a scalar)"""
    check_case(sub, "logsumexp", "logsumexp", {(3, 1): KEEPDIMS})
    check_case(sub, "logsumexp_axis0", "logsumexp",
               {(3,): "you reduced over the last axis: use the `axis` argument in every reduction",
                (1, 4): KEEPDIMS})
    check_case(sub, "logsumexp_rank1", "logsumexp", {(1,): KEEPDIMS})


@pytest.mark.points(1)
def test_logsumexp_extreme(sub: Any) -> None:
    """logsumexp stays finite and correct at +-1000 and 3.4e38"""
    check_case(sub, "logsumexp_extreme", "logsumexp", {(4, 1): KEEPDIMS})


@pytest.mark.points(1)
def test_stable_softmax(sub: Any) -> None:
    """stable_softmax of a batch: every row sums to 1"""
    check_case(sub, "stable_softmax", "stable_softmax")


@pytest.mark.points(2)
def test_stable_softmax_extreme(sub: Any) -> None:
    """stable_softmax stays finite at +-1000 and +-3.4e38"""
    check_case(sub, "stable_softmax_extreme", "stable_softmax")


@pytest.mark.points(1)
def test_log_softmax_no_underflow(sub: Any) -> None:
    """log_softmax([1000, -1000]) is [0, -2000], not -inf"""
    check_case(sub, "log_softmax_big", "log_softmax")


@pytest.mark.points(1)
def test_log_softmax_largest_floats(sub: Any) -> None:
    """log_softmax keeps -log 2 at float32's largest values (3.4e38)"""
    check_case(sub, "log_softmax_huge", "log_softmax")


@pytest.mark.points(1)
def test_float64_stays_float64(sub: Any) -> None:
    """all four functions keep float64 inputs in float64"""
    for function in FUNCTIONS:
        got = check_case(sub, f"float64_{function}", function)
        expect_dtype(as_array(got, function), "float64", f"{function} of a float64 input")


CE_SHAPES: dict[tuple[int, ...], str] = {(4,): "return one number: the mean over the examples (tf.reduce_mean), shape ()",
             (2,): "return one number: the mean over the examples (tf.reduce_mean), shape ()",
             (1,): "return a scalar of shape (): reduce without keepdims"}


@pytest.mark.points(2)
def test_cross_entropy(sub: Any) -> None:
    """cross_entropy is the mean negative log-likelihood, a scalar, also at +-1000 and for int64 labels"""
    check_case(sub, "cross_entropy", "cross_entropy", CE_SHAPES)
    check_case(sub, "cross_entropy_extreme", "cross_entropy", CE_SHAPES)
    check_case(sub, "cross_entropy", "cross_entropy", CE_SHAPES, label_dtype="int64")
