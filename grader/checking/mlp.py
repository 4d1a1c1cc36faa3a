"""A learner's Keras MLP, rebuilt here from plain data and evaluated with our own numpy forward pass.

The child exports a trained model as plain data (``inside.worker.export_model``): per layer,
the class name it reports, its config cut to JSON values and its weights as arrays. None of
that is believed except as numbers to evaluate. Each layer must be one of an allowlist of
kinds, and the kind is confirmed by what it carries, not by its name: the config keys that
kind must have and the shapes of its weights. A Conv2D renamed ``Dense`` has no ``units`` and
a 4-D kernel, so it is refused. Every score then comes from :meth:`Mlp.forward`, never from
the child's ``predict()``.

MAX_PARAMS is 2,000,000: about 5 times the lesson's MLP (407,050) and room for an honest
784-1024-1024-10 (1.86 M), but well under one first-layer unit per test image (784 x 10,000 =
7.8 M), the plain way to store the public test set inside the weights. A cap cannot rule out
a cleverer, compressed memorisation; see docs/security.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.engine.errors import CheckFailure
from grader.checking.mlp_activations import ACTIVATIONS
from grader.checking.mlp_layers import (
    MAX_VALUES_PER_IMAGE,
    Apply,
    Layer,
    Mismatch,
    Refuse,
    bind,
    finite_number,
)

__all__ = ["MAX_PARAMS", "MAX_LAYERS", "ACTIVATIONS", "SUPPORTED", "NotEvaluable", "ShapeMismatch",
           "Layer", "Mlp", "rebuild", "accuracy"]

MAX_PARAMS = 2_000_000
MAX_LAYERS = 64
#: Per image: the multiply-adds of all Dense layers (bounds our work).
MAX_MULTIPLY_ADDS = 2 * MAX_PARAMS
_BATCH_VALUES = 1 << 22  # numbers per layer output per forward batch (16 MiB of float32)


#: Reported class -> kind; the kind's own checks below decide whether the layer really is one.
_KINDS = {
    "InputLayer": "input", "Flatten": "flatten", "Reshape": "reshape", "Rescaling": "rescaling",
    "Normalization": "normalization", "Dense": "dense", "Activation": "activation", "ReLU": "relu",
    "LeakyReLU": "leaky_relu", "Softmax": "softmax", "Dropout": "identity", "AlphaDropout": "identity",
    "GaussianDropout": "identity", "GaussianNoise": "identity", "BatchNormalization": "batchnorm",
    "LayerNormalization": "layernorm",
}
#: Config keys each kind must have (a convolution has "filters" and "kernel_size", not "units").
_REQUIRED = {
    "input": (), "flatten": ("data_format",), "reshape": ("target_shape",),
    "rescaling": ("scale", "offset"), "normalization": ("axis", "invert", "mean", "variance"),
    "dense": ("units", "activation", "use_bias"), "activation": ("activation",),
    "relu": ("max_value", "negative_slope", "threshold"), "leaky_relu": ("negative_slope",),
    "softmax": ("axis",), "identity": (), "batchnorm": ("axis", "epsilon", "center", "scale"),
    "layernorm": ("axis", "epsilon", "center", "scale"),
}
SUPPORTED = ("InputLayer, Rescaling, Normalization, Flatten, Reshape, Dense (activation "
             + "/".join(ACTIVATIONS) + "), Activation, ReLU, LeakyReLU, Softmax, Dropout, "
             "AlphaDropout, GaussianDropout, GaussianNoise, BatchNormalization, LayerNormalization; "
             f"at most {MAX_PARAMS:,} parameters")
HINT = ("an MLP flattens the image and applies Dense layers: keras.Input((28, 28)) -> Rescaling(1/255) "
        "-> Flatten -> Dense(..., activation='relu') -> Dense(10), built from keras.layers themselves")


class NotEvaluable(CheckFailure):
    """The model is not an MLP this grader can rebuild; the message says which layer and why."""


class ShapeMismatch(CheckFailure):
    """The rebuilt MLP does not fit the images (or has no weights yet); the message says where."""


def _why_unknown(layer_class: str) -> str:
    if "Conv" in layer_class:
        return f"is a {layer_class}, a convolution"
    if "Pool" in layer_class:
        return f"is a {layer_class}, a pooling layer (a part of convolutional networks)"
    if any(word in layer_class for word in ("LSTM", "GRU", "RNN", "Bidirectional")):
        return f"is a {layer_class}, a recurrent layer"
    if "Attention" in layer_class:
        return f"is a {layer_class}, an attention layer"
    if layer_class == "Lambda":
        return "is a Lambda layer, which can hide any computation"
    return f"is a {layer_class}, not a kind of layer this grader evaluates"


def _weights_needed(kind: str, config: dict[str, Any]) -> list[int] | None:
    """The ranks of the weights a kind carries, in Keras' order (None: checked by the kind)."""
    if kind == "dense":
        return [2, 1] if config.get("use_bias") is True else [2]
    if kind == "batchnorm":
        return [1] * (int(config.get("scale") is True) + int(config.get("center") is True) + 2)
    if kind == "layernorm":
        return [1] * (int(config.get("scale") is True) + int(config.get("center") is True))
    return None if kind == "normalization" else []


def _signature(kind: str, reported: str, config: dict[str, Any], weights: list[np.ndarray]) -> None:
    """The layer carries what its kind must carry; otherwise Refuse says what is off (after "but")."""
    missing = [key for key in _REQUIRED[kind] if key not in config]
    if kind == "input" and not ({"batch_shape", "batch_input_shape"} & set(config)):
        missing.append("batch_shape")
    if missing:
        raise Refuse(f"its config has no {', '.join(missing)}, which every {reported} layer has")
    ranks = _weights_needed(kind, config)
    shapes = ", ".join(str(tuple(w.shape)) for w in weights) or "none"
    if kind == "normalization" and weights and len(weights) != 3:
        raise Refuse(f"its weights have shapes {shapes}, where a Normalization has mean, variance, count")
    if ranks is not None and weights and [w.ndim for w in weights] != ranks:
        need = {2: "a 2-D kernel (inputs, units)", 1: "a vector"}
        raise Refuse(f"its weights have shapes {shapes}, where a {reported} layer has "
                      + (" and ".join(need[r] for r in ranks) or "no weights")
                      + ("; a 4-D kernel is a convolution's" if any(w.ndim == 4 for w in weights) else ""))
    if kind == "dense":
        units = config["units"]
        if type(units) is not int or units < 1:
            raise Refuse(f"it has units={units!r}")
        if weights and (weights[0].shape[1] != units or (len(weights) == 2 and weights[1].shape != (units,))):
            raise Refuse(f"it has units={units} and weights of shapes {shapes}")
        activation = config["activation"] if config["activation"] is not None else "linear"
        if not (isinstance(activation, str) and activation in ACTIVATIONS):
            raise Refuse(f"it uses the activation {activation!r}, which this grader does not evaluate")
    if kind == "activation" and not (isinstance(config["activation"], str)
                                     and config["activation"] in ACTIVATIONS):
        raise Refuse(f"it uses the activation {config['activation']!r}, which this grader does not evaluate")
    numbers = {"rescaling": ("scale", "offset"), "relu": ("negative_slope", "threshold"),
               "leaky_relu": ("negative_slope",), "batchnorm": ("epsilon",), "layernorm": ("epsilon",)}
    for key in numbers.get(kind, ()):
        finite_number(config[key], key)
    if kind == "relu" and config["max_value"] is not None:
        finite_number(config["max_value"], "max_value")
    if kind == "normalization" and config["invert"] is not False:
        raise Refuse("it inverts the normalisation (invert=True)")
    if kind == "layernorm" and config.get("rms_scaling"):
        raise Refuse("it uses rms_scaling, which this grader does not evaluate")
    if kind == "flatten" and config["data_format"] not in (None, "channels_last"):
        raise Refuse(f"it has data_format={config['data_format']!r}")


def _records(export: Any) -> list[dict[str, Any]]:
    layers = export.get("layers") if isinstance(export, dict) else None
    if not isinstance(layers, list) or not all(isinstance(r, dict) for r in layers):
        raise NotEvaluable("not an MLP this grader can evaluate: the model's layers could not be read",
                           expected="a keras.Model made of keras.layers", got="no list of layers", hint=HINT)
    return layers


def _shapes_of(record: dict[str, Any]) -> list[tuple[int, ...]]:
    shapes = record.get("weight_shapes")
    if not isinstance(shapes, list) or not all(
            isinstance(s, list) and all(type(d) is int and 0 <= d <= 10**9 for d in s) for s in shapes):
        return []
    return [tuple(s) for s in shapes]


def rebuild(export: Any) -> Mlp:
    """The MLP described by an export, each layer checked against its kind; raises NotEvaluable."""
    records = _records(export)
    classes = [str(r.get("class"))[:100] for r in records]
    got = "layers " + ", ".join(classes[:MAX_LAYERS]) + (", ..." if len(classes) > MAX_LAYERS else "")

    def refuse(why: str, hint: str = HINT) -> NotEvaluable:
        return NotEvaluable(f"not an MLP this grader can evaluate: {why}",
                            expected=f"only layers of these kinds: {SUPPORTED}", got=got, hint=hint)

    if len(records) > MAX_LAYERS:
        raise refuse(f"it has more than {MAX_LAYERS} layers")
    params = 0
    for record in records:
        weights = record.get("weights")
        arrays = weights if isinstance(weights, list) else []
        params += sum(int(np.asarray(w).size) for w in arrays if isinstance(w, np.ndarray)) if weights \
            else sum(math.prod(s) for s in _shapes_of(record))
    if params > MAX_PARAMS:
        raise refuse(f"it has {params:,} parameters, more than the {MAX_PARAMS:,} this grader accepts "
                     "(enough for 784-1024-1024-10; more could hold the test set itself)",
                     hint=f"the lesson's MLP has 407,050 parameters: use fewer or narrower hidden "
                          f"layers (under {MAX_PARAMS:,} parameters in all)")
    layers = []
    for index, (record, reported) in enumerate(zip(records, classes), start=1):
        name = str(record.get("name", ""))[:100]
        raw_config = record.get("config")
        config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
        raw = record.get("weights")
        weights = raw if isinstance(raw, list) else []
        label = f"layer {index} ('{name}')"
        kind = _KINDS.get(reported)
        if kind is None:
            raise refuse(f"{label} {_why_unknown(reported)}; an MLP is made of Dense layers")
        if raw is None and _shapes_of(record):
            raise refuse(f"{label}: the model did not send its weights")
        if not all(isinstance(w, np.ndarray) and w.dtype.kind == "f" for w in weights):
            raise refuse(f"{label} has weights that are not arrays of numbers")
        try:
            _signature(kind, reported, config, weights)
        except Refuse as why:
            raise refuse(f"{label} is reported as {reported}, but {why}") from None
        with np.errstate(over="ignore", invalid="ignore"):
            floats = tuple(w.astype(np.float32) for w in weights)
        layers.append(Layer(index, name, reported, kind, config, floats))
    return Mlp(tuple(layers), params)


# ---------------------------------------------------------------- binding to an input shape


@dataclass(frozen=True)
class Mlp:
    """The learner's model as this grader understands it: an allowlisted chain of layers."""

    layers: tuple[Layer, ...]
    params: int

    def kinds(self) -> list[str]:
        return [layer.kind for layer in self.layers]

    def plan(self, image_shape: tuple[int, ...]) -> tuple[list[Apply], list[tuple[int, ...]]]:
        """The layer functions and output shapes for images of `image_shape`; ShapeMismatch if not."""
        functions, shapes, shape, work = [], [], tuple(image_shape), 0
        for layer in self.layers:
            needed = _weights_needed(layer.kind, layer.config)
            if needed and not layer.weights:
                raise ShapeMismatch(f"{layer.label} has no weights yet: the model was never built",
                                    hint="start the model with keras.Input(shape=(28, 28))")
            try:
                function, shape, cost = bind(layer, shape)
            except (Mismatch, Refuse) as why:
                raise ShapeMismatch(
                    f"the model does not fit images of shape {tuple(image_shape)}: {layer.label} {why}",
                    expected=f"input shape (None, {', '.join(map(str, image_shape))})",
                    hint="start with keras.Input(shape=(28, 28)) and let a Flatten layer make 784 "
                         "numbers before the first Dense layer") from None
            work += cost
            if math.prod(shape) > MAX_VALUES_PER_IMAGE or work > MAX_MULTIPLY_ADDS:
                raise NotEvaluable(f"not an MLP this grader can evaluate: {layer.label} gives {shape} "
                                   "numbers per image, more than this grader computes",
                                   expected=f"only layers of these kinds: {SUPPORTED}", hint=HINT)
            functions.append(function)
            shapes.append(shape)
        return functions, shapes

    def output_shape(self, image_shape: tuple[int, ...]) -> tuple[int, ...]:
        shapes = self.plan(image_shape)[1]
        return shapes[-1] if shapes else tuple(image_shape)

    def forward(self, images: np.ndarray) -> np.ndarray:
        """The model's outputs (float32) for a batch of images, computed here with numpy."""
        images = np.asarray(images)
        functions, shapes = self.plan(tuple(images.shape[1:]))
        widest = max([math.prod(s) for s in shapes] + [math.prod(images.shape[1:]), 1])
        step = max(1, min(len(images), _BATCH_VALUES // widest))
        outputs = []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for start in range(0, len(images), step):
                x = images[start:start + step].astype(np.float32)
                for function in functions:
                    x = np.asarray(function(x), dtype=np.float32)
                outputs.append(x)
        out_shape = shapes[-1] if shapes else tuple(images.shape[1:])
        return np.concatenate(outputs) if outputs else np.zeros((0, *out_shape), np.float32)


def accuracy(mlp: Mlp, images: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of `images` whose highest score (by our forward pass) is the label."""
    return float(np.mean(np.argmax(mlp.forward(images), axis=-1) == labels))
