"""Reference implementations for the checks, in numpy float64. Never shipped to learners.

Organised by exercise (one section each). Next to every reference sit the
values that typical mistakes produce (``*_mistakes`` functions, returning
``{mistake id: values}``), so that a check can name the mistake; the words for
each id are in :mod:`grader.checks.mistakes`. `grader.instructor.fixtures` also uses these
to store the mistakes' values for the public inputs.

Mistake functions compute in the input's own dtype where the mistake is a
rounding effect (float32 overflow, lost precision); references always use float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# ============================================================ ex01: tensors


def describe(array: np.ndarray) -> tuple[int, tuple[int, ...], str]:
    """(rank, shape, TensorFlow dtype name) of the tensor that `array` becomes in the child."""
    name = "string" if array.dtype.kind in "US" else str(array.dtype)
    return array.ndim, tuple(int(n) for n in array.shape), name


# ============================================================ activations (ex02-ex05)


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(np.asarray(x, dtype=np.float64))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def softmax(x: np.ndarray, axis: int | None = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "softmax": softmax,
    "identity": lambda z: np.asarray(z, dtype=np.float64),
}


def activate(name: str, z: np.ndarray) -> np.ndarray:
    return ACTIVATIONS[name](z)


# ============================================================ ex02: one neuron


def neuron(x: np.ndarray, w: np.ndarray, b: np.ndarray, activation: str) -> np.ndarray:
    """activation(sum_i x_i w_i + b), shape (1, 1)."""
    x, w, b = (np.asarray(a, dtype=np.float64) for a in (x, w, b))
    return activate(activation, np.sum(x * w, axis=1, keepdims=True) + b)


def neuron_mistakes(x: np.ndarray, w: np.ndarray, b: np.ndarray, activation: str) -> dict[str, Any]:
    x, w, b = (np.asarray(a, dtype=np.float64) for a in (x, w, b))
    weighted = np.sum(x * w, axis=1, keepdims=True)
    mistakes = {
        "neuron_no_bias": activate(activation, weighted),
        "neuron_activation_before_bias": activate(activation, weighted) + b,
    }
    if activation != "identity":
        mistakes["neuron_no_activation"] = weighted + b
    return mistakes


# ============================================================ ex03: activations


def activation_mistakes(name: str, x: np.ndarray) -> dict[str, Any]:
    x = np.asarray(x, dtype=np.float64)
    if name == "sigmoid":
        return {"sigmoid_sign": sigmoid(-x)}
    if name == "tanh":
        return {"tanh_is_sigmoid": sigmoid(x), "tanh_sign": -tanh(x)}
    if name == "relu":
        return {"relu_abs": np.abs(x), "relu_min": np.minimum(x, 0.0)}
    if name == "softmax":
        with np.errstate(divide="ignore", invalid="ignore"):
            no_exp = x / x.sum(-1, keepdims=True)
        mistakes = {"softmax_all_entries": softmax(x, axis=None), "softmax_no_exp": no_exp}
        if x.ndim >= 2:
            mistakes["softmax_wrong_axis"] = softmax(x, axis=0)
        return mistakes
    raise KeyError(name)


# ============================================================ ex04: layers


def dense(x: np.ndarray, W: np.ndarray, b: np.ndarray, activation: str) -> np.ndarray:
    x, W, b = (np.asarray(a, dtype=np.float64) for a in (x, W, b))
    return activate(activation, x @ W + b)


def dense_mistakes(x: np.ndarray, W: np.ndarray, b: np.ndarray, activation: str) -> dict[str, Any]:
    x, W, b = (np.asarray(a, dtype=np.float64) for a in (x, W, b))
    mistakes = {"dense_no_bias": activate(activation, x @ W)}
    if activation != "identity":
        mistakes["dense_no_activation"] = x @ W + b
    if W.shape[0] == W.shape[1]:
        mistakes["dense_transposed"] = activate(activation, x @ W.T + b)
    return mistakes


def forward(x: np.ndarray, params: Sequence[tuple[Any, Any]], activations: Sequence[str]) -> np.ndarray:
    out = np.asarray(x, dtype=np.float64)
    for (W, b), name in zip(params, activations, strict=True):
        out = dense(out, W, b, name)
    return out


def forward_mistakes(x: np.ndarray, params: Sequence[tuple[Any, Any]], activations: Sequence[str]) -> dict[str, Any]:
    count = len(params)
    unbiased = [(W, np.zeros_like(np.asarray(b))) for W, b in params]
    mistakes: dict[str, Any] = {"forward_no_bias": forward(x, unbiased, activations)}
    if count > 1:
        linear = forward(x, params, ["identity"] * count)
        mistakes["forward_last_activation_only"] = activate(activations[-1], linear)
        mistakes["forward_first_activation_everywhere"] = forward(x, params, [activations[0]] * count)
        mistakes["forward_no_activation"] = linear
        mistakes["forward_activations_reversed"] = forward(x, params, list(reversed(activations)))
    return {k: v for k, v in mistakes.items() if not np.allclose(v, forward(x, params, activations))}


# ============================================================ ex05: stable softmax


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    logp = log_softmax(logits)
    labels = np.asarray(labels, dtype=np.int64)
    return np.asarray(-np.mean(logp[np.arange(len(labels)), labels]))


def logsumexp_mistakes(x: np.ndarray, axis: int = -1) -> dict[str, Any]:
    x64 = np.asarray(x, dtype=np.float64)
    m = np.max(x64, axis=axis, keepdims=True)
    return {"lse_no_add_back": np.log(np.sum(np.exp(x64 - m), axis=axis))}


def log_softmax_mistakes(x: np.ndarray) -> dict[str, Any]:
    """Includes x - logsumexp(x) in x's own dtype: in float32 it loses -log 2 at 3.4e38."""
    x = np.asarray(x)
    with np.errstate(over="ignore", invalid="ignore"):
        m = np.max(x, axis=-1, keepdims=True)
        lse = m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True)).astype(x.dtype)
        late_shift = x - lse
    return {
        "log_softmax_late_shift": late_shift,
        "log_softmax_is_softmax": softmax(x),
        "log_softmax_sign": -log_softmax(x),
    }


def cross_entropy_mistakes(logits: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    loss = cross_entropy(logits, labels)
    probabilities = softmax(logits)[np.arange(len(labels)), np.asarray(labels, dtype=np.int64)]
    return {
        "ce_sum": loss * len(labels),
        "ce_sign": -loss,
        "ce_probabilities": np.asarray(-np.mean(probabilities)),
    }


# ============================================================ ex06/ex07: backprop (one hidden layer)


def ex06_loss_and_gradients(
    params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradients of x -> sigmoid(x W1 + b1) W2 + b2 -> mean cross-entropy, float64."""
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(y, dtype=np.int64)
    S = sigmoid(x @ W1 + b1)
    L2 = S @ W2 + b2
    m = x.shape[0]
    loss = float(cross_entropy(L2, labels))
    dL2 = softmax(L2)
    dL2[np.arange(m), labels] -= 1.0
    dL2 /= m
    dL1 = (dL2 @ W2.T) * S * (1.0 - S)
    grads = {"W1": x.T @ dL1, "b1": dL1.sum(axis=0), "W2": S.T @ dL2, "b2": dL2.sum(axis=0)}
    return loss, grads
