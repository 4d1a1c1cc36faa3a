"""ex08's public goal check: the model trained with the learner's own EPOCHS and BATCH_SIZE is
scored here on the MNIST test set against the 98 % goal, and a miss names its likely cause.

Before this check, a model trained for one epoch or with a softmax output under
from_logits=True got every public point; only the hidden checks saw the accuracy."""

from __future__ import annotations

import numpy as np
from helpers import apply_mistake, failed_feedback, feedback_of, solution_source

from grader.checking.mlp import rebuild
from grader.checking.outcomes import Status
from grader.checks.ex08_training import loss_mismatch, reasons

SOLUTION = solution_source("ex08")
GOAL = "trained with your EPOCHS and BATCH_SIZE"


def goal_test(result):
    [test] = [t for t in result.tests if GOAL in t.name]
    return test


def test_the_reference_reaches_the_goal_publicly(grade):
    result = grade("ex08", SOLUTION, hidden=False)
    assert result.points == result.max_points > 0, feedback_of(result)
    assert goal_test(result).status is Status.PASSED


def test_one_epoch_misses_the_goal_publicly_and_is_named(grade):
    result = grade("ex08", apply_mistake(SOLUTION, ("EPOCHS = 6", "EPOCHS = 1")), hidden=False)
    text = failed_feedback(result, GOAL)
    assert "short of the 98 % goal" in text and "epochs=1, batch_size=256" in text, text
    assert "EPOCHS = 1" in text and "too little" in text, text
    assert "from_logits" not in text, text
    others = [t for t in result.tests if GOAL not in t.name]
    assert all(t.status is Status.PASSED for t in others), feedback_of(result)


def test_a_softmax_output_with_from_logits_fails_publicly_and_is_named(grade):
    """The softmax applied twice: this recipe still reaches 98 % (so the goal check passes), but the
    compile check sees the output layer (rebuilt here) and the loss the model was compiled with."""
    result = grade("ex08", apply_mistake(SOLUTION, (
        'logits = keras.layers.Dense(NUM_CLASSES, name="logits")(x)',
        'logits = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="logits")(x)')), hidden=False)
    text = failed_feedback(result, "compiles the model")
    assert "already applies a softmax" in text and "from_logits=True" in text, text
    assert "drop activation='softmax'" in text, text
    assert result.points < result.max_points


def test_logits_with_a_probability_loss_fail_publicly_and_are_named(grade):
    result = grade("ex08", apply_mistake(SOLUTION, (
        "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
        'loss="sparse_categorical_crossentropy"')), hidden=False)
    text = failed_feedback(result, "compiles the model")
    assert "treats them as probabilities" in text and "from_logits=True" in text, text


def _export(last_activation: str, rescaling: bool) -> dict:
    """A plain-data export as the child sends it: (Rescaling), Flatten, Dense(4), Dense(10)."""
    rng = np.random.default_rng(0)
    layers: list[dict] = []
    if rescaling:
        layers.append({"class": "Rescaling", "name": "scale", "config": {"scale": 1 / 255, "offset": 0.0},
                       "weights": []})
    layers.append({"class": "Flatten", "name": "flatten", "config": {"data_format": "channels_last"},
                   "weights": []})
    for units, activation, inputs in ((4, "relu", 784), (10, last_activation, 4)):
        layers.append({"class": "Dense", "name": f"dense_{units}",
                       "config": {"units": units, "activation": activation, "use_bias": True},
                       "weights": [rng.normal(size=(inputs, units)).astype(np.float32),
                                   np.zeros(units, np.float32)]})
    return {"layers": layers}


def test_reasons_name_each_cause_and_only_that_one():
    sgd = {"optimizer": {"module": "keras.optimizers", "class_name": "SGD", "config": {}},
           "loss": {"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": True}}}
    adam = {"optimizer": {"class_name": "Adam", "config": {}},
            "loss": {"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": True}}}
    good = rebuild(_export("linear", rescaling=True))
    assert reasons(good, adam, 6) == ()
    assert reasons(good, None, 6) == ()  # no settings reported: no guess from them
    [why] = reasons(good, sgd, 6)
    assert "SGD" in why and "Adam" in why
    [why] = reasons(rebuild(_export("linear", rescaling=False)), adam, 6)
    assert "Rescaling(1 / 255)" in why
    [why] = reasons(rebuild(_export("softmax", rescaling=True)), adam, 6)
    assert "already applies a softmax" in why
    assert reasons(rebuild(_export("softmax", rescaling=True)), {"loss": "sparse_categorical_crossentropy"}, 6) == ()
    [why] = reasons(good, adam, 1)
    assert "EPOCHS = 1: 1 pass over" in why
    assert loss_mismatch(good, adam) is None and loss_mismatch(good, None) is None
    assert loss_mismatch(rebuild(_export("softmax", rescaling=True)), adam) == "softmax_twice"
    assert loss_mismatch(good, {"loss": "sparse_categorical_crossentropy"}) == "logits_as_probabilities"
    assert loss_mismatch(good, {"loss": "mse"}) is None
