"""The layers of an evaluable MLP: what each kind carries, and its numpy forward step bound to a shape."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checking.mlp_activations import ACTIVATIONS, softmax

__all__ = ["Refuse", "Layer", "finite_number", "Mismatch", "Apply", "bind", "MAX_VALUES_PER_IMAGE"]

#: Per image: the largest layer output (bounds our work).
MAX_VALUES_PER_IMAGE = 1 << 16


class Refuse(Exception):
    pass


@dataclass(frozen=True)
class Layer:
    """One layer as we understood it: index (1-based), names, kind, config and float32 weights."""

    index: int
    name: str
    reported: str
    kind: str
    config: dict[str, Any]
    weights: tuple[np.ndarray, ...]

    @property
    def label(self) -> str:
        return f"layer {self.index} ('{self.name}', a {self.reported})"


def finite_number(value: Any, what: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise Refuse(f"it has {what} {value!r}, not a finite number")
    return float(value)


class Mismatch(Exception):
    pass


Apply = Callable[[np.ndarray], np.ndarray]


def _axis_list(value: Any, rank: int) -> list[int]:
    """Keras axes (counting the batch axis as 0) as per-image axes 0..rank-1."""
    axes = value if isinstance(value, list) else [value]
    out = []
    for axis in axes:
        if type(axis) is not int or not -(rank + 1) <= axis <= rank or axis in (0, -(rank + 1)):
            raise Mismatch(f"uses axis {value!r}, which inputs of this shape do not have")
        out.append(axis - 1 if axis > 0 else rank + axis)
    return sorted(set(out))


def _last_axis_vectors(layer: Layer, shape: tuple[int, ...], what: str) -> None:
    rank = len(shape)
    if _axis_list(layer.config["axis"], rank) != [rank - 1]:
        raise Mismatch(f"{what} over axis {layer.config['axis']!r}; this grader evaluates the last axis only")
    if any(w.shape != (shape[-1],) for w in layer.weights):
        raise Mismatch(f"has weights of shapes {[w.shape for w in layer.weights]} for inputs of shape {shape}")


def _bind_dense(layer: Layer, shape: tuple[int, ...]) -> tuple[Apply, tuple[int, ...], int]:
    kernel = layer.weights[0]
    if not shape or shape[-1] != kernel.shape[0]:
        raise Mismatch(f"takes {kernel.shape[0]} numbers along the last axis, but gets shape "
                        f"{shape} from the layer before")
    bias = layer.weights[1] if len(layer.weights) == 2 else np.float32(0)
    act = ACTIVATIONS[layer.config["activation"] or "linear"]
    return (lambda x: act(x @ kernel + bias)), (*shape[:-1], kernel.shape[1]), \
        math.prod(shape) * kernel.shape[1]


def _bind_normalization(layer: Layer, shape: tuple[int, ...]) -> Apply:
    kept = _axis_list(layer.config["axis"], len(shape)) if layer.config["axis"] is not None else []
    target = tuple(shape[i] if i in kept else 1 for i in range(len(shape)))
    if layer.weights:
        mean, variance = layer.weights[0], layer.weights[1]
    elif layer.config["mean"] is None or layer.config["variance"] is None:
        raise Mismatch("has no mean and variance yet (call its adapt() or pass them)")
    else:
        try:
            mean, variance = (np.asarray(layer.config[k], dtype=np.float32) for k in ("mean", "variance"))
        except (TypeError, ValueError):
            raise Mismatch("has a mean or variance that is not a list of numbers") from None
    if mean.size not in (1, math.prod(target)) or variance.size not in (1, math.prod(target)):
        raise Mismatch(f"has a mean of {mean.size} numbers for inputs of shape {shape}")
    mean = mean.reshape(target if mean.size > 1 else ())
    std = np.maximum(np.sqrt(variance.reshape(target if variance.size > 1 else ())), np.float32(1e-7))
    return lambda x: (x - mean) / std


def _bind_shape(layer: Layer, shape: tuple[int, ...]) -> tuple[Apply, tuple[int, ...]]:
    """Input, Flatten and Reshape: they only check or change the shape."""
    config = layer.config
    if layer.kind == "input":
        declared = config.get("batch_shape", config.get("batch_input_shape"))
        if not isinstance(declared, list) or len(declared) != len(shape) + 1 or any(
                d is not None and d != s for d, s in zip(declared[1:], shape)):
            shown = tuple(declared) if isinstance(declared, list) else declared
            raise Mismatch(f"declares inputs of shape {shown!r}")
        return (lambda x: x), shape
    if layer.kind == "flatten":
        return (lambda x: x.reshape(len(x), -1)), (math.prod(shape),)
    target = config["target_shape"]
    fits = isinstance(target, list) and all(type(d) is int and (d > 0 or d == -1) for d in target) \
        and target.count(-1) <= 1
    known = math.prod(d for d in target if d > 0) if fits else 0
    out = tuple(math.prod(shape) // known if d == -1 else d for d in target) if known else ()
    if not known or math.prod(out) != math.prod(shape):
        raise Mismatch(f"reshapes to {target!r}, which does not fit inputs of shape {shape}")
    return (lambda x: x.reshape((len(x), *out))), out


def _bind_relu(layer: Layer, shape: tuple[int, ...]) -> Apply:
    config = layer.config
    if layer.kind == "leaky_relu":
        slope = np.float32(finite_number(config["negative_slope"], "negative_slope"))
        return lambda x: np.where(x >= 0, x, slope * x)
    negative = np.float32(finite_number(config["negative_slope"], "negative_slope"))
    threshold = np.float32(finite_number(config["threshold"], "threshold"))
    top = None if config["max_value"] is None else np.float32(finite_number(config["max_value"], "max_value"))

    def relu(x: np.ndarray) -> np.ndarray:
        y = np.where(x >= threshold, x, negative * (x - threshold))
        return y if top is None else np.minimum(y, top)

    return relu


def _bind_norm(layer: Layer, shape: tuple[int, ...]) -> Apply:
    """BatchNormalization (moving statistics, as at inference) and LayerNormalization."""
    _last_axis_vectors(layer, shape, "normalises")
    config = layer.config
    eps = np.float32(finite_number(config["epsilon"], "epsilon"))
    weights = list(layer.weights)
    gamma = weights.pop(0) if config["scale"] is True else np.float32(1)
    beta = weights.pop(0) if config["center"] is True else np.float32(0)
    if layer.kind == "batchnorm":
        mean, variance = weights
        factor = gamma / np.sqrt(variance + eps)
        return lambda x: (x - mean) * factor + beta

    def layernorm(x: np.ndarray) -> np.ndarray:
        centred = x - x.mean(axis=-1, keepdims=True)
        return centred / np.sqrt(x.var(axis=-1, keepdims=True) + eps) * gamma + beta

    return layernorm


def bind(layer: Layer, shape: tuple[int, ...]) -> tuple[Apply, tuple[int, ...], int]:
    """(function on a batch, output shape per image, multiply-adds per image) for inputs of `shape`."""
    kind, config = layer.kind, layer.config
    if kind == "dense":
        return _bind_dense(layer, shape)
    if kind in ("input", "flatten", "reshape"):
        return (*_bind_shape(layer, shape), 0)
    function: Apply = lambda x: x  # noqa: E731 - identity: dropout and noise do nothing at inference
    if kind == "rescaling":
        scale, offset = np.float32(config["scale"]), np.float32(config["offset"])
        function = lambda x: x * scale + offset  # noqa: E731
    elif kind == "normalization":
        function = _bind_normalization(layer, shape)
    elif kind == "activation":
        function = ACTIVATIONS[config["activation"]]
    elif kind in ("relu", "leaky_relu"):
        function = _bind_relu(layer, shape)
    elif kind == "softmax":
        if _axis_list(config["axis"], len(shape)) != [len(shape) - 1]:
            raise Mismatch(f"takes the softmax over axis {config['axis']!r}; only the last axis is evaluated")
        function = softmax
    elif kind in ("batchnorm", "layernorm"):
        function = _bind_norm(layer, shape)
    return function, shape, 0
