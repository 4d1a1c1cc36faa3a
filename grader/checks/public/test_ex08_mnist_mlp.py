"""Exercise 8 (a Keras MLP on MNIST): public checks.

The model stays in the learner's child process. What counts is what this process
rebuilds from it: the child exports the layers' configs and weights as plain data, and
grader.checking.mlp checks each layer against an allowlist of kinds (by its config keys
and weight shapes, not by the class name the child reports), caps the parameters, and
computes the model's scores with its own numpy forward pass. The child's predict() only
runs on random images, to show that the rebuilt model is the learner's model; it never
decides a score. Only numpy crosses (`tensors=False`), so the same checks run on Keras
with the TensorFlow or the JAX backend, and nothing here imports a framework.

The quick training check trains a fresh model on 6,000 training images for one epoch
and scores it, in this process, on 2,000 other training images (the child never sees
them). The goal check trains a fresh model the way the learner's file says (EPOCHS,
BATCH_SIZE) on all 60,000 training images and scores it here on the 10,000 test images
against the lesson's goal of 98 %, naming the likely cause when it falls short. The hidden
checks give partial credit from the same run (it happens once per learner).
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import numpy as np
import pytest

from grader.checks.support import CheckFailure, Handle, LearnerError, MAX_PARAMS, Mlp, rebuild, show
from grader.checks.ex08_training import (
    CONFIG_TIMEOUT_S,
    GOAL_ACCURACY,
    TRAIN_TIMEOUT_S,
    FullRun,
    learner_constant,
    loss_mismatch,
    reasons,
    training_settings,
)

__all__ = ["build", "check_mlp", "evaluable", "full_run", "learner_constant", "mnist", "train_and_score",
           "training_settings"]

pytestmark = pytest.mark.exercise("ex08")

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
QUICK_TRAIN, QUICK_HELD_OUT = slice(0, 6000), slice(54000, 56000)
QUICK_BATCH_SIZE = 128
QUICK_ACCURACY = 0.5  # chance is 10 %; one epoch on 6,000 images gets a working MLP near 90 %
BUILD_TIMEOUT_S = 60.0
TRAIN_QUICK_TIMEOUT_S = 60.0
PREDICT_TIMEOUT_S = 60.0
#: Random grey images (never MNIST test images): our rebuild must agree with the learner's model on them.
PROBE = np.random.default_rng(8).integers(0, 256, size=(32, *IMAGE_SHAPE), dtype=np.uint8)
PROBE_RTOL, PROBE_ATOL = 1e-3, 1e-4


# ---------------------------------------------------------------- the model, rebuilt here


def model_handle(model: Any, what: str = "build_model()") -> Handle:
    """The learner's model as a handle, or a failure saying what came back instead."""
    if not isinstance(model, Handle) or model.description.get("kind") != "keras_model":
        raise CheckFailure(f"{what} must return a Keras model",
                           expected="a keras.Model (e.g. keras.Sequential([...]))",
                           got="None" if model is None else show(model),
                           hint="did you forget `return model`?" if model is None else None)
    return model


def check_mlp(sub: Any, model: Any) -> Mlp:
    """The model as this grader rebuilds it from its layers' configs and weights (never their
    names alone): allowlisted layer kinds, at most MAX_PARAMS, and a hidden Dense layer."""
    data = sub.export_model("ex08", model_handle(model), max_values=MAX_PARAMS, timeout=BUILD_TIMEOUT_S)
    mlp = rebuild(data)
    if mlp.kinds().count("dense") < 2:
        raise CheckFailure("an MLP needs at least one hidden Dense layer before the output layer",
                           expected="two or more Dense layers",
                           got="layers " + ", ".join(layer.reported for layer in mlp.layers),
                           hint="add a hidden layer such as Dense(256, activation='relu') before "
                                "the Dense(10) output")
    return mlp


def evaluable(sub: Any, model: Any) -> Mlp:
    """check_mlp, and our forward pass agrees with the learner's own model on random images.

    The child's predict() counts for nothing; it can only show that we rebuilt something
    else than the learner built (a subclassed model, a layer used twice), which we then say.
    Predicting first also builds a model that was not built yet.
    """
    try:
        theirs = sub.call_method("ex08", model_handle(model), "predict", PROBE, verbose=0,
                                 timeout=PREDICT_TIMEOUT_S)
    except LearnerError as exc:
        if exc.type_name == "NotImplementedError":
            raise
        raise CheckFailure("the model could not predict on a batch of raw images",
                           expected="model.predict(images) to work for images of shape (N, 28, 28)",
                           got=f"{exc.type_name}: {exc.message.splitlines()[0][:240] if exc.message else ''}",
                           hint="start the model with keras.Input(shape=(28, 28))") from None
    mlp = check_mlp(sub, model)
    ours = mlp.forward(PROBE)
    scale = float(np.max(np.abs(ours))) if ours.size and np.all(np.isfinite(ours)) else 1.0
    if not (isinstance(theirs, np.ndarray) and theirs.shape == ours.shape and np.allclose(
            ours, theirs.astype(np.float32), rtol=PROBE_RTOL, atol=PROBE_ATOL * max(1.0, scale),
            equal_nan=True)):
        raise CheckFailure(
            "the model this grader rebuilt from your layers does not compute what your model computes",
            expected=f"the same scores from your model and from its layers applied in order "
                     f"({', '.join(layer.reported for layer in mlp.layers)})",
            got=f"your model: {show(theirs)}; its layers in order: {show(ours)}",
            hint="build the model with keras.Sequential([...]) or keras.Input -> layers -> "
                 "keras.Model, each layer used once, with no custom call()")
    return mlp


def check_shapes(sub: Any, model: Handle) -> None:
    """Input (None, 28, 28) and output (None, 10), from the rebuilt model on real images."""
    mlp = evaluable(sub, model)
    output = mlp.output_shape(IMAGE_SHAPE)
    if output != (NUM_CLASSES,):
        raise CheckFailure(f"the model has {output[-1] if output else 1} outputs; MNIST has 10 classes "
                           "(digits 0-9)" if len(output) == 1 else
                           f"the model gives scores of shape {output} per image; MNIST has 10 classes",
                           expected="output shape (None, 10)", got=f"output shape {(None, *output)}",
                           hint="flatten the image first, and make the last layer Dense(10): one "
                                "score per digit")


def build(sub: Any) -> Handle:
    """A fresh model from the learner's build_model (seeded), checked to be a Keras model."""
    return model_handle(sub.ex08.build_model(seed=0, timeout=BUILD_TIMEOUT_S))


def compile_and_check(sub: Any, model: Handle) -> None:
    sub.ex08.compile_model(model, timeout=BUILD_TIMEOUT_S)
    config = sub.call_method("ex08", model, "get_compile_config", timeout=BUILD_TIMEOUT_S)
    if not (isinstance(config, dict) and config):
        raise CheckFailure("after compile_model(model) the model is not compiled",
                           expected="a model with an optimizer and a loss", got="no compile settings",
                           hint="call model.compile(optimizer=..., loss=..., metrics=['accuracy']) "
                                "inside compile_model")
    loss = show(config.get("loss"), 400).replace("_", "").lower()
    if "categoricalcrossentropy" in loss and "sparse" not in loss:
        raise CheckFailure("the loss is the one-hot categorical cross-entropy, but MNIST's labels are "
                           "integers 0..9 (one class number per image), not one-hot rows",
                           expected="SparseCategoricalCrossentropy (for integer labels)",
                           got="CategoricalCrossentropy (for one-hot labels)",
                           hint="use the sparse loss: keras.losses.SparseCategoricalCrossentropy("
                                "from_logits=True) when the last layer gives raw scores")
    try:
        mlp = check_mlp(sub, model)
    except CheckFailure:
        return  # not an MLP: the first check says so, and costs its own points
    mismatch = loss_mismatch(mlp, config)
    if mismatch == "softmax_twice":
        raise CheckFailure("the last layer already applies a softmax, and the loss, with from_logits=True, "
                           "applies a second one: the loss sees softmax(softmax(z))",
                           expected="a last Dense(10) with no activation (logits) and from_logits=True, "
                                    "or a softmax output and from_logits=False",
                           got="a softmax output and SparseCategoricalCrossentropy(from_logits=True)",
                           hint="drop activation='softmax' from the last layer: the model returns logits "
                                "and the loss applies the softmax itself, stably")
    if mismatch == "logits_as_probabilities":
        raise CheckFailure("the last layer returns logits (no softmax), but the loss treats them as "
                           "probabilities (from_logits is False)",
                           expected="SparseCategoricalCrossentropy(from_logits=True) for a logits output",
                           got="a cross-entropy loss without from_logits=True",
                           hint="pass loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)")


# ---------------------------------------------------------------- training and scoring


def train_and_score(sub: Any, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
                    images: np.ndarray, labels: np.ndarray,
                    timeout: float) -> tuple[Any, Handle, Mlp, float]:
    """Build, compile and train a fresh model in the child; score it HERE on `images`.

    The child never sees `images` or `labels`: the scores come from our own forward pass over the
    trained weights. Returns (what train returned, the model, its rebuild here, accuracy).
    """
    model = build(sub)
    sub.ex08.compile_model(model, timeout=BUILD_TIMEOUT_S)  # train may also compile it itself
    history = sub.ex08.train(model, x, y, epochs, batch_size, timeout=timeout, tensors=False, seed=0)
    mlp = evaluable(sub, model)
    scores = mlp.forward(images)  # here, with numpy: never the child's predict()
    if scores.shape != (len(images), NUM_CLASSES):
        raise CheckFailure("the model must give one row of 10 scores per image",
                           expected=f"shape ({len(images)}, 10)", got=f"shape {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise CheckFailure("after training, the model's predictions contain nan or inf",
                           expected="finite scores", got=show(scores),
                           hint="the loss blew up: is the learning rate far too large, or the "
                                "input not scaled to 0..1 (Rescaling(1/255))?")
    return history, model, mlp, float(np.mean(np.argmax(scores, axis=1) == labels))


def mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    from grader.checks.support import load_mnist

    images, labels = load_mnist(split)
    assert labels is not None
    return images, labels


_RUNS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def full_run(sub: Any) -> FullRun:
    """Train once per learner with their own settings; score on the 10,000 test images, here."""
    if sub not in _RUNS:
        epochs, batch_size = training_settings(sub.ex08.source)
        start = time.monotonic()
        try:
            check_mlp(sub, build(sub))  # before the training: a model this grader can evaluate at all
            x, y = mnist("train")
            x_test, y_test = mnist("test")
            _, model, mlp, accuracy = train_and_score(sub, x, y, epochs, batch_size, x_test, y_test,
                                                      TRAIN_TIMEOUT_S)
            seconds = time.monotonic() - start
            why: tuple[str, ...] = ()
            if accuracy < GOAL_ACCURACY:
                try:
                    config = sub.call_method("ex08", model, "get_compile_config", timeout=CONFIG_TIMEOUT_S)
                except LearnerError:
                    config = None
                why = reasons(mlp, config, epochs)
            _RUNS[sub] = FullRun(accuracy, epochs, batch_size, seconds, why)
        except CheckFailure as failure:  # every check of the run reports the same outcome
            _RUNS[sub] = CheckFailure(f"no accuracy points: {failure.problem}", expected=failure.expected,
                                      got=failure.got, hint=failure.hint)
        except Exception as exc:
            _RUNS[sub] = exc
    run = _RUNS[sub]
    if isinstance(run, Exception):
        raise run
    return run


# ---------------------------------------------------------------- the checks


@pytest.mark.points(2)
def test_model_is_an_mlp(sub: Any) -> None:
    """build_model returns an MLP: Dense layers only, no convolutions"""
    check_mlp(sub, build(sub))


@pytest.mark.points(2)
def test_input_and_output_shapes(sub: Any) -> None:
    """the model takes (28, 28) images and gives 10 scores per image"""
    check_shapes(sub, build(sub))


@pytest.mark.points(1)
def test_compile_model(sub: Any) -> None:
    """compile_model(model) compiles the model, with a loss that fits its last layer"""
    compile_and_check(sub, build(sub))


@pytest.mark.points(2)
def test_quick_training(sub: Any) -> None:
    """one epoch of train() on 6,000 images returns the History and beats chance on new images"""
    build(sub)  # an untouched stub is "not attempted" before any data is needed
    x, y = mnist("train")
    history, _, _, accuracy = train_and_score(sub, x[QUICK_TRAIN], y[QUICK_TRAIN], 1, QUICK_BATCH_SIZE,
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


@pytest.mark.points(3)
def test_reaches_the_goal(sub: Any) -> None:
    """trained with your EPOCHS and BATCH_SIZE, the model gets at least 98 % of the MNIST test images right"""
    build(sub)  # an untouched stub is "not attempted" before any data is needed
    run = full_run(sub)
    if run.accuracy >= GOAL_ACCURACY:
        return
    why = run.reasons or ("train longer (EPOCHS, at most 10) or with a wider hidden layer; Adam with a "
                          "learning rate near 1e-3 and the Rescaling(1/255) input work well",)
    raise CheckFailure(
        f"the trained model gets {run.accuracy:.2%} of the 10,000 test images right, short of the 98 % goal",
        expected=f"at least {GOAL_ACCURACY:.0%}", got=f"{run.accuracy:.2%} after {run.settings()}",
        hint="; and ".join(why))
