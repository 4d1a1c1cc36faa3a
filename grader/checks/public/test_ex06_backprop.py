"""Exercise 6 (backpropagation by hand): public checks.

The expected loss and gradients come from `tf.GradientTape` on the same graph,
computed here in the trusted process (float64), so nothing of the exercise's
solution ships with the checks. TensorFlow is imported lazily, inside the
checks, so that listing the checks stays fast.

When a gradient is wrong, it is compared with what the typical mistakes give
(a sign error, a sum where the mean belongs, the sigmoid's derivative left
out, a transpose, a bias gradient that is not summed over the rows) and the
feedback names the mistake.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.checks.support import CheckFailure, LearnerError, Shapes, as_array, explain, show

pytestmark = pytest.mark.exercise("ex06")

KEYS = ("W1", "b1", "W2", "b2")
#: What the checks look for in the learner's source: automatic differentiation.
AUTODIFF = (
    "tensorflow.GradientTape", "tensorflow.gradients", "tensorflow.autodiff",
    "tensorflow.test.compute_gradient", "tensorflow.python.eager.backprop",
    "tensorflow.python.ops.gradients", "tensorflow.python.ops.gradients_impl",
    "jax.grad", "jax.value_and_grad", "jax.vjp", "jax.jvp", "jax.linearize", "jax.jacfwd",
    "jax.jacrev", "jax.jacobian", "jax.hessian", "torch.autograd", "torch.func",
)
_SHAPE_WORDS = ("Matrix size-incompatible", "Incompatible shapes", "incompatible", "shape")
TRANSPOSE_HINT = ("a gradient always has the shape of what it belongs to: dW2 = S^T dL2 is (h, k) "
                  "like W2, dS = dL2 W2^T is (m, h) like S, dW1 = x^T dL1 is (n, h) like W1")


# ---------------------------------------------------------------- inputs and the tape


def make_problem(rng: np.random.Generator, m: int, n: int, h: int, k: int,
                 scale: float = 1.0) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Random float32 params (W ~ normal(0, scale/sqrt(fan_in)), b ~ normal(0, 0.1)), x and int32 y."""
    params = {
        "W1": rng.normal(0.0, scale / np.sqrt(n), (n, h)),
        "b1": rng.normal(0.0, 0.1, (h,)),
        "W2": rng.normal(0.0, scale / np.sqrt(h), (h, k)),
        "b2": rng.normal(0.0, 0.1, (k,)),
    }
    x = rng.normal(0.0, 1.0, (m, n))
    y = rng.integers(0, k, m)
    y[: min(m, k)] = np.arange(min(m, k))  # every class appears when m >= k
    rng.shuffle(y)
    return {key: v.astype(np.float32) for key, v in params.items()}, x.astype(np.float32), \
        y.astype(np.int32)


def tape_key(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, sigmoid_derivative: bool) -> str:
    """A fingerprint of one tape problem, to find it among the stored tapes."""
    digest = hashlib.sha256(b"1" if sigmoid_derivative else b"0")
    for array in (*(params[key] for key in KEYS), x, y):
        digest.update(str(array.shape).encode() + np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:24]


_STORED = Path(__file__).with_name("expected_ex06.json")


def tape(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
         sigmoid_derivative: bool = True) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradients by tf.GradientTape on the exercise's graph, in float64.

    With `sigmoid_derivative=False` the sigmoid passes gradients through unchanged
    (dL1 = dS): what a backward pass without the S * (1 - S) factor computes.
    The tapes of the fixed public inputs are stored in expected_ex06.json (made by
    `python -m grader.instructor.fixtures ex06`, by this same function), so that a learner's
    `grader check` needs no TensorFlow in this process.
    """
    if _STORED.exists():
        stored = json.loads(_STORED.read_text()).get("tapes", {}).get(
            tape_key(params, x, y, sigmoid_derivative))
        if stored is not None:
            return float(stored["loss"]), {key: np.asarray(stored[key], np.float64) for key in KEYS}
    return compute_tape(params, x, y, sigmoid_derivative)


def compute_tape(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                 sigmoid_derivative: bool = True) -> tuple[float, dict[str, np.ndarray]]:
    """`tape`, always computed with TensorFlow."""
    import tensorflow as tf

    variables = {key: tf.Variable(value.astype(np.float64)) for key, value in params.items()}
    inputs = tf.constant(x.astype(np.float64))
    with tf.GradientTape() as recorder:
        L1 = tf.matmul(inputs, variables["W1"]) + variables["b1"]
        S = tf.sigmoid(L1)
        if not sigmoid_derivative:
            S = L1 + tf.stop_gradient(S - L1)
        L2 = tf.matmul(S, variables["W2"]) + variables["b2"]
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(y, tf.int64),
                                                           logits=L2))
    grads = recorder.gradient(loss, variables)
    return float(loss.numpy()), {key: grads[key].numpy() for key in KEYS}


# ---------------------------------------------------------------- calling the learner


def require_by_hand(sub: Any) -> None:
    """Fail when the learner's file uses automatic differentiation."""
    from grader.checks.support import check_forbidden

    check_forbidden(sub, "ex06", AUTODIFF, ("forward", "backward"),
                    lesson="backward() must apply the chain rule by hand; automatic "
                          "differentiation (GradientTape, tf.gradients, jax.grad) is not allowed "
                          "here")


def run_forward(sub: Any, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    result = sub.ex06.forward(params, x, y)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure("forward(params, x, y) must return two things: (loss, cache)",
                           expected="a tuple (loss, cache)", got=show(result),
                           hint="end forward with `return loss, cache`")
    return result[0], result[1]


def gradient_shapes(params: dict[str, np.ndarray], x: np.ndarray) -> Shapes:
    """What each name of the lesson's backward pass must be, for translating shape errors."""
    (n, h), k, m = params["W1"].shape, params["W2"].shape[1], x.shape[0]
    return {"dL2": ((m, k), "L2 (m, k)"), "dW2": ((h, k), "W2 (h, k)"), "db2": ((k,), "b2 (k,)"),
            "dS": ((m, h), "S (m, h)"), "dL1": ((m, h), "L1 (m, h)"), "dW1": ((n, h), "W1 (n, h)"),
            "db1": ((h,), "b1 (h,)"), "S": ((m, h), "S (m, h)"), "P": ((m, k), "P (m, k)"),
            "x": ((m, n), "x (m, n)"), "W2": ((h, k), "W2 (h, k)"), "W1": ((n, h), "W1 (n, h)")}


def run_backward(sub: Any, params: dict[str, np.ndarray], x: np.ndarray,
                 y: np.ndarray, by_hand: bool = False) -> dict[str, Any]:
    """forward, then backward with the cache exactly as it came back; a dict of gradients."""
    _, cache = run_forward(sub, params, x, y)
    try:
        grads = sub.ex06.backward(params, cache)
    except LearnerError as exc:
        meaning = explain(exc, gradient_shapes(params, x))
        shapes_word = any(w in exc.message for w in _SHAPE_WORDS) or "reshape" in exc.message
        if exc.type_name == "NotImplementedError" or not (meaning or shapes_word):
            raise
        raise CheckFailure("backward raised an error about mismatched shapes"
                           + (f": {meaning}" if meaning else ""),
                           got=f"{exc.type_name}: {exc.message.splitlines()[0][:200]}"
                               + (f"\n          at {exc.traceback[-1]}" if exc.traceback else ""),
                           hint=f"check where the transposes go; {TRANSPOSE_HINT}; a bias gradient "
                                "adds up the rows with tf.reduce_sum(..., axis=0)") from None
    from grader.checks.support import check_tripwire

    if by_hand:  # the checks that grade the gradients themselves
        check_tripwire(sub, AUTODIFF, "backward", "apply the chain rule by hand")
    if not isinstance(grads, dict):
        raise CheckFailure("backward(params, cache) must return a dict of gradients",
                           expected='{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}', got=show(grads),
                           hint="did you forget the `return`?" if grads is None else None)
    missing = [key for key in KEYS if key not in grads]
    if missing:
        raise CheckFailure(f"the gradients dict has no {', '.join(repr(k) for k in missing)}",
                           expected=f"the keys {list(KEYS)}", got=f"the keys {sorted(grads)}",
                           hint="use the same keys as params: one gradient per parameter")
    return grads


# ---------------------------------------------------------------- diagnosing a gradient


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=2e-3, atol=1e-5))


def check_shape(key: str, got: Any, expected: np.ndarray, m: int) -> np.ndarray:
    """The learner's gradient as an array of the right shape, or a failure naming the mistake."""
    what = f"the gradient d{key}"
    array = as_array(got, what)
    if array.shape == expected.shape:
        return array
    hint = f"d{key} must have the shape of {key}, {expected.shape}"
    if expected.ndim == 2 and array.shape == expected.shape[::-1]:
        hint = f"d{key} is transposed: {TRANSPOSE_HINT}"
    elif key.startswith("b") and array.shape == (m, expected.shape[0]):
        hint = (f"d{key} must add up the contributions of all m rows: sum over the rows "
                f"(tf.reduce_sum(..., axis=0)) to get shape {expected.shape}")
    elif key.startswith("b") and array.shape == (m,):
        hint = f"you summed over the wrong axis: sum over the rows, axis=0, to get {expected.shape}"
    elif key.startswith("b") and array.shape == (1, expected.shape[0]):
        hint = f"sum over axis=0 without keepdims, so d{key} has the shape {expected.shape} of {key}"
    raise CheckFailure(f"{what} has the wrong shape", expected=f"shape {expected.shape}",
                       got=f"shape {array.shape}", hint=hint)


def check_gradient(key: str, got: Any, expected: np.ndarray, m: int,
                   without_sigmoid_derivative: np.ndarray | None = None,
                   slips: dict[str, dict[str, np.ndarray]] | None = None) -> None:
    """Compare one gradient with the tape, naming the typical mistake when it is wrong."""
    array = check_shape(key, got, expected, m).astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise CheckFailure(f"the gradient d{key} contains nan or inf", expected="finite numbers",
                           got=show(array))
    if _close(array, expected):
        return
    problem, hint = f"the gradient d{key} has the wrong values", None
    if _close(array, -expected):
        problem = f"d{key} has the wrong sign: every entry is the negative of the right value"
        hint = "check the sign of dL2 = (softmax(L2) - one_hot(y)) / m: probabilities minus targets"
    elif m > 1 and _close(array, m * expected):
        problem = f"d{key} is m = {m} times too large: you summed where the loss takes the mean"
        hint = "the loss is the MEAN over the m examples, so dL2 = (softmax(L2) - one_hot(y)) / m"
    elif m > 1 and key.startswith("b") and _close(array, expected / m):
        problem = f"d{key} is m = {m} times too small: it averages the rows instead of summing them"
        hint = "dL2 already contains the 1/m of the mean; the bias gradient SUMS the rows (axis=0)"
    elif without_sigmoid_derivative is not None and _close(array, without_sigmoid_derivative):
        problem = f"d{key} matches a backward pass without the sigmoid's derivative"
        hint = "going back through S = sigmoid(L1) multiplies by its slope: dL1 = dS * S * (1 - S)"
    elif (named := _sigmoid_slip(key, array, slips)) is not None:
        problem, hint = named
    elif expected.ndim == 2 and expected.shape[0] == expected.shape[1] and _close(array, expected.T):
        problem = f"d{key} is transposed"
        hint = TRANSPOSE_HINT
    raise CheckFailure(problem, expected=show(expected.astype(np.float32)),
                       got=show(array.astype(np.float32)), hint=hint)


#: Ways to get the sigmoid's derivative wrong: what dL1 becomes, and the words that name it.
SIGMOID_SLIPS: dict[str, tuple[str, str]] = {
    "missing_S": ("dL1 = dS * (1 - S): the sigmoid's derivative is S * (1 - S), and the factor S "
                  "is missing", "multiply by both factors: dL1 = dS * S * (1 - S)"),
    "missing_one_minus_S": ("dL1 = dS * S: the sigmoid's derivative is S * (1 - S), and the factor "
                            "(1 - S) is missing", "multiply by both factors: dL1 = dS * S * (1 - S)"),
    "L1_for_S": ("dL1 = dS * L1 * (1 - L1): the sigmoid's derivative was taken with L1 where S "
                 "belongs", "the slope S * (1 - S) uses the sigmoid's OUTPUT S = sigmoid(L1), not "
                 "its input L1: dL1 = dS * S * (1 - S)"),
    "sigmoid_of_S": ("dL1 = dS * sigmoid(S) * (1 - sigmoid(S)): the sigmoid's derivative was applied "
                     "to S, which is already sigmoid(L1)", "S is already the sigmoid's output, so "
                     "its slope is simply S * (1 - S): dL1 = dS * S * (1 - S)"),
    "matmul_slope": ("the sigmoid's derivative was applied with a matrix product; it is an "
                     "entry-by-entry product", "dL1 = dS * S * (1 - S) with `*`, not tf.matmul"),
}


def sigmoid_slips(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """dW1 and db1 as each slip of SIGMOID_SLIPS computes them (numpy, float64, in the parent)."""
    p = {key: params[key].astype(np.float64) for key in KEYS}
    inputs = x.astype(np.float64)
    L1 = inputs @ p["W1"] + p["b1"]
    S = 1.0 / (1.0 + np.exp(-L1))
    L2 = S @ p["W2"] + p["b2"]
    P = np.exp(L2 - L2.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    dL2 = (P - np.eye(L2.shape[1])[y]) / x.shape[0]
    dS = dL2 @ p["W2"].T
    sigmoid_S = 1.0 / (1.0 + np.exp(-S))
    dL1s = {"missing_S": dS * (1 - S), "missing_one_minus_S": dS * S,
            "L1_for_S": dS * L1 * (1 - L1), "sigmoid_of_S": dS * sigmoid_S * (1 - sigmoid_S)}
    if S.shape[0] == S.shape[1]:
        dL1s["matmul_slope"] = dS @ (S * (1 - S))
    return {name: {"W1": inputs.T @ dL1, "b1": dL1.sum(axis=0)} for name, dL1 in dL1s.items()}


def _sigmoid_slip(key: str, array: np.ndarray,
                  slips: dict[str, dict[str, np.ndarray]] | None) -> tuple[str, str] | None:
    for name, values in (slips or {}).items():
        if key in values and _close(array, values[key]):
            problem, hint = SIGMOID_SLIPS[name]
            return f"d{key} matches {problem}", hint
    return None


def check_loss(got: Any, expected: float, m: int) -> None:
    array = as_array(got, "the loss from forward")
    if m > 1 and array.size == m:
        raise CheckFailure("the loss must be one number, the mean over the batch",
                           expected="a scalar (shape ())", got=f"shape {array.shape}",
                           hint="average the per-example losses with tf.reduce_mean")
    if array.size != 1:
        raise CheckFailure("the loss must be one number", expected="a scalar (shape ())",
                           got=f"shape {array.shape}")
    value = float(array.reshape(()))
    if np.isclose(value, expected, rtol=1e-4, atol=1e-5):
        return
    hint = "loss = -(1/m) sum_r log softmax(L2)[r, y_r]; compute log_softmax with the provided helper"
    if np.isclose(value, -expected, rtol=1e-4):
        hint = "the sign is wrong: cross-entropy is MINUS the mean log-probability of the true class"
    elif m > 1 and np.isclose(value, m * expected, rtol=1e-4):
        hint = f"your loss is m = {m} times too large: take the mean over the batch, not the sum"
    raise CheckFailure("forward returned the wrong loss", expected=f"{expected:.6f}",
                       got=f"{value:.6f}", hint=hint)


def check_all(sub: Any, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
              keys: tuple[str, ...] = KEYS) -> None:
    """Loss and the chosen gradients against the tape, with diagnosis."""
    m = x.shape[0]
    loss, expected = tape(params, x, y)
    _, without = tape(params, x, y, sigmoid_derivative=False)
    slips = sigmoid_slips(params, x, y)
    if "loss" in keys:
        check_loss(run_forward(sub, params, x, y)[0], loss, m)
    if not any(k in KEYS for k in keys):
        return  # the loss alone: forward's points never depend on backward
    grads = run_backward(sub, params, x, y, by_hand=True)
    for key in (k for k in keys if k in KEYS):
        check_gradient(key, grads[key], expected[key], m,
                       without[key] if key in ("W1", "b1") else None, slips)


# ---------------------------------------------------------------- the checks

# Fixed, non-square shapes so that a transpose shows up as a wrong shape:
# m=6 examples, n=3 inputs, h=5 hidden units, k=4 classes.
PARAMS, X, Y = make_problem(np.random.default_rng(6), m=6, n=3, h=5, k=4)


@pytest.mark.points(2)
def test_forward_loss(sub: Any) -> None:
    """forward returns the mean cross-entropy loss of the batch"""
    check_all(sub, PARAMS, X, Y, keys=("loss",))


@pytest.mark.points(1)
def test_gradient_shapes(sub: Any) -> None:
    """backward returns one gradient per parameter, each the shape of its parameter"""
    _, expected = tape(PARAMS, X, Y)
    grads = run_backward(sub, PARAMS, X, Y)
    failures = []
    for key in KEYS:
        try:
            check_shape(key, grads[key], expected[key], X.shape[0])
        except CheckFailure as failure:
            failures.append(failure)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise CheckFailure("\n\n".join(str(failure) for failure in failures))


@pytest.mark.points(2)
def test_output_layer_gradients(sub: Any) -> None:
    """dW2 and db2 (the output layer) match tf.GradientTape"""
    require_by_hand(sub)
    check_all(sub, PARAMS, X, Y, keys=("W2", "b2"))


@pytest.mark.points(2)
def test_hidden_layer_gradients(sub: Any) -> None:
    """dW1 and db1 (through the sigmoid) match tf.GradientTape"""
    require_by_hand(sub)
    check_all(sub, PARAMS, X, Y, keys=("W1", "b1"))


@pytest.mark.points(1)
def test_no_automatic_differentiation(sub: Any) -> None:
    """the gradients are computed by hand, without GradientTape or other autodiff"""
    run_backward(sub, PARAMS, X, Y, by_hand=True)  # an untouched stub is "not attempted", not a pass
    require_by_hand(sub)
