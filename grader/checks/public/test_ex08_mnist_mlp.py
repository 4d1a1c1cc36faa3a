"""Exercise 8 (a Keras MLP on MNIST): public checks.

The model stays in the learner's child process; these checks see its description
(layer classes, units, shapes) and call its methods through the session. Only
numpy crosses (`tensors=False`), so the same checks run on Keras with the
TensorFlow or the JAX backend, and nothing here imports a framework.

The quick training check trains a fresh model on 6,000 training images for one
epoch and scores it, in this process, on 2,000 other training images the model
never saw. The full training run and the test-set score are hidden checks.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import pytest

from grader.checking.feedback import CheckFailure, show
from grader.engine.child import LearnerError
from grader.engine.inside.protocol import Handle

pytestmark = pytest.mark.exercise("ex08")

#: Layer classes an MLP may use: scaling and reshaping, Dense layers, regularisation.
MLP_LAYERS = frozenset({
    "InputLayer", "Rescaling", "Normalization", "Flatten", "Reshape", "Dense", "Activation",
    "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Dropout", "AlphaDropout", "GaussianDropout",
    "GaussianNoise", "BatchNormalization", "LayerNormalization",
})
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
QUICK_TRAIN, QUICK_HELD_OUT = slice(0, 6000), slice(54000, 56000)
QUICK_BATCH_SIZE = 128
QUICK_ACCURACY = 0.5  # chance is 10 %; one epoch on 6,000 images gets a working MLP near 90 %
BUILD_TIMEOUT_S = 60.0
TRAIN_QUICK_TIMEOUT_S = 60.0
PREDICT_TIMEOUT_S = 60.0


# ---------------------------------------------------------------- the model's description


def _why_not_mlp(layer_class: str) -> str:
    if "Conv" in layer_class:
        return f"{layer_class} is a convolution; this exercise asks for an MLP of Dense layers"
    if "Pool" in layer_class:
        return (f"{layer_class} is a pooling layer, a part of convolutional networks; this "
                "exercise asks for an MLP of Dense layers")
    if any(word in layer_class for word in ("LSTM", "GRU", "RNN", "Bidirectional")):
        return f"{layer_class} is a recurrent layer; this exercise asks for an MLP of Dense layers"
    if "Attention" in layer_class:
        return f"{layer_class} is an attention layer; this exercise asks for an MLP of Dense layers"
    if layer_class == "Lambda":
        return "a Lambda layer can hide any computation; build the MLP from Keras layers only"
    return f"{layer_class} is not a layer of an MLP; this exercise asks for an MLP of Dense layers"


def model_layers(model: Any, what: str = "build_model()") -> list[dict[str, Any]]:
    """The layer records of a model handle, or a failure saying what came back instead."""
    if not isinstance(model, Handle) or model.description.get("kind") != "keras_model":
        raise CheckFailure(f"{what} must return a Keras model",
                           expected="a keras.Model (e.g. keras.Sequential([...]))",
                           got="None" if model is None else show(model),
                           hint="did you forget `return model`?" if model is None else None)
    layers = model.description.get("layers")
    return [layer for layer in layers if isinstance(layer, dict)] if isinstance(layers, list) else []


def check_mlp(model: Any) -> list[dict[str, Any]]:
    layers = model_layers(model)
    classes = [str(layer.get("class")) for layer in layers]
    for layer_class in classes:
        if layer_class not in MLP_LAYERS:
            raise CheckFailure(
                _why_not_mlp(layer_class),
                expected="only " + ", ".join(sorted(MLP_LAYERS - {"InputLayer"})),
                got="layers " + ", ".join(classes),
                hint="an MLP flattens the image and applies Dense layers: keras.Input((28, 28)) "
                     "-> Rescaling(1/255) -> Flatten -> Dense(..., 'relu') -> Dense(10)")
    if classes.count("Dense") < 2:
        raise CheckFailure("an MLP needs at least one hidden Dense layer before the output layer",
                           expected="two or more Dense layers", got="layers " + ", ".join(classes),
                           hint="add a hidden layer such as Dense(256, activation='relu') before "
                                "the Dense(10) output")
    return layers


def last_units(layers: list[dict[str, Any]]) -> int | None:
    dense = [layer for layer in layers if layer.get("class") == "Dense"]
    units = dense[-1].get("units") if dense else None
    return units if isinstance(units, int) else None


def check_shapes(sub: Any, model: Handle) -> None:
    """Input (None, 28, 28) and output (None, 10), from the description and a real prediction."""
    layers = model_layers(model)
    description = model.description
    input_shape = description.get("input_shape")
    if isinstance(input_shape, list) and tuple(input_shape[1:]) != IMAGE_SHAPE:
        hint = "start the model with keras.Input(shape=(28, 28)) and let a Flatten layer make 784"
        raise CheckFailure("the model must take whole images, shape (28, 28), as input",
                           expected="input shape (None, 28, 28)",
                           got=f"input shape {tuple(input_shape)}", hint=hint)
    units = last_units(layers)
    output_shape = description.get("output_shape")
    got_units = output_shape[-1] if isinstance(output_shape, list) and output_shape else units
    if got_units is not None and got_units != NUM_CLASSES:
        raise CheckFailure(f"the model has {got_units} outputs; MNIST has 10 classes (digits 0-9)",
                           expected="output shape (None, 10)",
                           got=f"output shape {tuple(output_shape or [None, got_units])}",
                           hint="the last layer must be Dense(10): one score per digit")
    probe = np.zeros((2, *IMAGE_SHAPE), dtype=np.uint8)
    try:
        scores = sub.call_method("ex08", model, "predict", probe, verbose=0, timeout=PREDICT_TIMEOUT_S)
    except LearnerError as exc:
        if exc.type_name == "NotImplementedError":
            raise
        raise CheckFailure("the model could not predict on a batch of raw images",
                           expected="model.predict(images) to work for images of shape (N, 28, 28)",
                           got=f"{exc.type_name}: {exc.message.splitlines()[0][:240]}",
                           hint="start the model with keras.Input(shape=(28, 28))") from None
    scores = np.asarray(scores) if not isinstance(scores, Handle) else scores
    if not isinstance(scores, np.ndarray) or scores.shape != (2, NUM_CLASSES):
        raise CheckFailure("model.predict on 2 images must give 2 rows of 10 scores",
                           expected="shape (2, 10)", got=show(scores),
                           hint="the model must end with Dense(10) and nothing after it that "
                                "changes the shape")


def build(sub: Any) -> Handle:
    """A fresh model from the learner's build_model (seeded), checked to be a Keras model."""
    model = sub.ex08.build_model(seed=0, timeout=BUILD_TIMEOUT_S)
    model_layers(model)
    return model


def compile_and_check(sub: Any, model: Handle) -> None:
    sub.ex08.compile_model(model, timeout=BUILD_TIMEOUT_S)
    config = sub.call_method("ex08", model, "get_compile_config", timeout=BUILD_TIMEOUT_S)
    if not (isinstance(config, dict) and config):
        raise CheckFailure("after compile_model(model) the model is not compiled",
                           expected="a model with an optimizer and a loss", got="no compile settings",
                           hint="call model.compile(optimizer=..., loss=..., metrics=['accuracy']) "
                                "inside compile_model")


# ---------------------------------------------------------------- training and scoring


def learner_constant(source: str, name: str, default: int, low: int, high: int) -> int:
    """A top-level `NAME = <int>` of the learner's file, read with ast (never run), clamped."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return default
    value: Any = default
    for node in tree.body:
        target, expression = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, expression = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, expression = node.target, node.value
        if isinstance(target, ast.Name) and target.id == name and expression is not None:
            try:
                value = ast.literal_eval(expression)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                value = default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return default
    return int(min(max(round(value), low), high))


def train_and_score(sub: Any, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
                    images: np.ndarray, labels: np.ndarray, timeout: float) -> tuple[Any, float]:
    """Build, compile and train a fresh model in the child; score it HERE on `images`.

    The child gets `images` without `labels`. Returns (what train returned, accuracy).
    """
    model = build(sub)
    sub.ex08.compile_model(model, timeout=BUILD_TIMEOUT_S)  # train may also compile it itself
    history = sub.ex08.train(model, x, y, epochs, batch_size, timeout=timeout, tensors=False, seed=0)
    scores = sub.call_method("ex08", model, "predict", images, batch_size=1024, verbose=0,
                             timeout=PREDICT_TIMEOUT_S)
    if not isinstance(scores, np.ndarray) or scores.shape != (len(images), NUM_CLASSES):
        raise CheckFailure("model.predict must give one row of 10 scores per image",
                           expected=f"shape ({len(images)}, 10)", got=show(scores))
    if not np.all(np.isfinite(scores)):
        raise CheckFailure("after training, the model's predictions contain nan or inf",
                           expected="finite scores", got=show(scores),
                           hint="the loss blew up: is the learning rate far too large, or the "
                                "input not scaled to 0..1 (Rescaling(1/255))?")
    return history, float(np.mean(np.argmax(scores, axis=1) == labels))


def mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    from grader.course.mnist import load_mnist

    images, labels = load_mnist(split)
    assert labels is not None
    return images, labels


# ---------------------------------------------------------------- the checks


@pytest.mark.points(2)
def test_model_is_an_mlp(sub: Any) -> None:
    """build_model returns an MLP: Dense layers only, no convolutions"""
    check_mlp(build(sub))


@pytest.mark.points(2)
def test_input_and_output_shapes(sub: Any) -> None:
    """the model takes (28, 28) images and gives 10 scores per image"""
    check_shapes(sub, build(sub))


@pytest.mark.points(1)
def test_compile_model(sub: Any) -> None:
    """compile_model(model) compiles the model"""
    compile_and_check(sub, build(sub))


@pytest.mark.points(2)
def test_quick_training(sub: Any) -> None:
    """one epoch of train() on 6,000 images returns the History and beats chance on new images"""
    build(sub)  # an untouched stub is "not attempted" before any data is needed
    x, y = mnist("train")
    history, accuracy = train_and_score(sub, x[QUICK_TRAIN], y[QUICK_TRAIN], 1, QUICK_BATCH_SIZE,
                                        x[QUICK_HELD_OUT], y[QUICK_HELD_OUT], TRAIN_QUICK_TIMEOUT_S)
    if not (isinstance(history, Handle) and history.type == "History"):
        raise CheckFailure("train must return the History that model.fit returns",
                           expected="a keras.callbacks.History", got=show(history),
                           hint="end train with `return model.fit(...)`")
    if not accuracy >= QUICK_ACCURACY:
        raise CheckFailure(
            "after one epoch on 6,000 images the model is hardly better than guessing",
            expected=f"at least {QUICK_ACCURACY:.0%} of 2,000 new images right (guessing gets 10%)",
            got=f"{accuracy:.1%} right",
            hint="check the loss (sparse categorical cross-entropy, from_logits=True when the last "
                 "layer has no softmax), the learning rate, and the Rescaling(1/255) of the input")
