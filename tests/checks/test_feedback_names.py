"""Feedback that names the mistake (issue 11, "What to build" 3): the sigmoid's derivative in ex06,
TensorFlow/Keras errors in the learner's terms, hints that point at the right mistake, and the
lessons' contracts, each enforced. Every mistake here is graded through the real engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from helpers import apply_mistake, failed_feedback, feedback_of, solution_source, stub_source
from grader.checking.outcomes import ExerciseResult, Status
from grader.checking.runner import outcome_for
from grader.engine.child import LearnerError, readable_message

Grade = Callable[..., ExerciseResult]
SIGMOID_LINE = "dL1 = dS * S * (1.0 - S)"


def _status(result: ExerciseResult, words: str) -> Status:
    [test] = [t for t in result.tests if words in t.name and t.visibility == "public"]
    return test.status


# ---------------------------------------------------------------- ex06: the sigmoid's derivative


@pytest.mark.parametrize("replacements, words", [
    ([(SIGMOID_LINE, "dL1 = dS * (1.0 - S)")], "the factor S is missing"),
    ([(SIGMOID_LINE, "dL1 = dS * S")], "the factor (1 - S) is missing"),
    ([('"P": tf.exp(log_probabilities),', '"P": tf.exp(log_probabilities), "L1": L1,'),
      (SIGMOID_LINE, 'dL1 = dS * cache["L1"] * (1.0 - cache["L1"])')], "with L1 where S belongs"),
    ([(SIGMOID_LINE, "dL1 = dS * _sigmoid(S) * (1.0 - _sigmoid(S))")], "applied to S"),
], ids=["dS*(1-S)", "dS*S", "L1-for-S", "sigmoid-of-S"])
def test_misapplied_sigmoid_derivative_is_named(replacements, words, grade: Grade) -> None:
    result = grade("ex06", apply_mistake(solution_source("ex06"), *replacements), hidden=False)
    text = failed_feedback(result, "through the sigmoid")
    assert "the sigmoid's derivative" in text and words in text, text
    assert "S * (1 - S)" in text
    # The output layer does not go through the sigmoid: its points are kept.
    assert _status(result, "output layer") is Status.PASSED, feedback_of(result)


def test_the_hidden_checks_name_the_sigmoid_slip_too(grade: Grade) -> None:
    result = grade("ex06", apply_mistake(solution_source("ex06"), (SIGMOID_LINE, "dL1 = dS * (1.0 - S)")))
    hidden = [t.feedback for t in result.tests if t.visibility == "hidden" and t.status is Status.FAILED]
    assert hidden and all("the sigmoid's derivative" in text for text in hidden), feedback_of(result)


# ---------------------------------------------------------------- TF/Keras errors in learner terms


def test_a_matmul_error_in_backward_names_the_gradient_and_the_transpose(grade: Grade) -> None:
    source = apply_mistake(solution_source("ex06"), ('dS = tf.matmul(dL2, params["W2"], transpose_b=True)',
                                                     'dS = tf.matmul(dL2, params["W2"])'))
    result = grade("ex06", source, hidden=False)
    text = failed_feedback(result, "through the sigmoid")
    assert "(6, 4) @ (5, 4)" in text and "dS must have shape (6, 5)" in text, text
    assert "transpose_b=True" in text


def test_a_reshape_in_backward_names_the_gradient_and_the_axis_to_sum(grade: Grade) -> None:
    source = apply_mistake(solution_source("ex06"), ("db2 = tf.reduce_sum(dL2, axis=0)",
                                                     "db2 = tf.reshape(dL2, (4,))"))
    result = grade("ex06", source, hidden=False)
    text = failed_feedback(result, "output layer")
    assert "db2 must have shape (4,)" in text and "24 values" in text, text
    assert "axis=0" in text and "the rows" in text


def test_a_keras_loss_that_does_not_fit_integer_labels_names_the_sparse_loss() -> None:
    """A real Keras error, raised by fit, becomes an outcome that says what it means."""
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10)])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    try:
        model.fit(np.zeros((8, 4), "float32"), np.arange(8), epochs=1, verbose=0)
    except Exception as exc:  # the real error, as the child would report it
        error = LearnerError(type(exc).__name__, readable_message(str(exc)),
                             ['  File "ex08_mnist_mlp.py", line 9, in train\n    return model.fit(x, y)\n'], "call")
    else:
        pytest.fail("Keras accepted integer labels with a one-hot loss")
    status, text = outcome_for(error)
    assert status is Status.ERROR
    assert "what it means:" in text and "SparseCategoricalCrossentropy" in text and "one-hot" in text, text


def test_ex08_one_hot_loss_with_integer_labels_is_named_at_compile(grade: Grade) -> None:
    source = apply_mistake(solution_source("ex08"), ("loss=keras.losses.SparseCategoricalCrossentropy(",
                                                     "loss=keras.losses.CategoricalCrossentropy("))
    result = grade("ex08", source, hidden=False)
    text = failed_feedback(result, "compiles the model")
    assert "integers 0..9" in text and "SparseCategoricalCrossentropy" in text, text


# ---------------------------------------------------------------- hints that name the right mistake


def test_ex01_string_digits_are_told_to_convert_not_to_pass_a_dtype(grade: Grade) -> None:
    source = apply_mistake(solution_source("ex01"), ("flat = tf.constant(digits, dtype=tf.int32)\n    return tf.reshape(flat, (6, 4))",
                                                     "flat = tf.constant(list(PI_DIGITS[:24]))\n    return tf.reshape(flat, (6, 4))"))
    text = failed_feedback(grade("ex01", source, hidden=False), "make_matrix")
    assert "strings" in text and "tf.strings.to_number" in text and "int(" in text, text
    assert "pass dtype=tf.int32 to tf.constant" not in text


def test_ex02_transposed_x_is_named_a_matrix_product_not_broadcasting(grade: Grade) -> None:
    source = apply_mistake(solution_source("ex02"), ("weights_as_column = tf.transpose(w)\n    weighted_sum = tf.matmul(x, weights_as_column) + b",
                                                     "weighted_sum = tf.matmul(tf.transpose(x), w) + b"))
    result = grade("ex02", source, hidden=False)
    text = failed_feedback(result, "neuron_matmul with the identity")
    assert "tf.matmul(tf.transpose(x), w)" in text and "outer product" in text, text
    assert "broadcast" not in text
    assert _status(result, "neuron_sum with the identity") is Status.PASSED


def test_ex05_overflowing_logsumexp_gets_a_logsumexp_hint(grade: Grade) -> None:
    source = apply_mistake(solution_source("ex05"), (
        "return tf.squeeze(maximum, axis=axis) + tf.math.log(total)",
        "return tf.math.log(tf.reduce_sum(tf.exp(x), axis=axis))"))
    text = failed_feedback(grade("ex05", source, hidden=False), "logsumexp stays finite")
    assert "contains inf" in text and "log(sum(exp(x)))" in text and "m + log(sum(exp(x - m)))" in text, text
    assert "inf / inf" not in text


# ---------------------------------------------------------------- the lessons' contracts


@pytest.mark.parametrize("line", ["weighted_sum = tf.matmul(x, tf.transpose(w)) + b",
                                  "weighted_sum = x @ tf.transpose(w) + b"])
def test_ex02_neuron_sum_may_not_use_a_matrix_product(line: str, grade: Grade) -> None:
    source = apply_mistake(solution_source("ex02"), (
        "weighted_sum = tf.reduce_sum(x * w, axis=1, keepdims=True) + b", line))
    result = grade("ex02", source)
    for title in ("neuron_sum with the identity", "neuron_sum applies"):
        assert "neuron_sum" in failed_feedback(result, title) and "x * w" in failed_feedback(result, title)
    assert "matrix product" in failed_feedback(result, "neuron_sum applies")
    assert [t for t in result.tests if t.visibility == "hidden" and "neuron_sum" in t.name
            and t.status is Status.FAILED], feedback_of(result)
    assert _status(result, "neuron_matmul with the identity") is Status.PASSED


@pytest.mark.parametrize("body", [
    "for key in params:\n        params[key] = params[key] - lr * grads[key]\n    return params",
    "new = params\n    for key in params:\n        new[key] -= lr * grads[key]\n    return new",
    "params.update({key: params[key] - lr * grads[key] for key in params})\n    return params",
])
def test_ex07_sgd_step_that_changes_params_in_place_fails(body: str, grade: Grade) -> None:
    source = apply_mistake(solution_source("ex07"),
                           ("return {key: params[key] - lr * grads[key] for key in params}", body))
    result = grade("ex07", source, extra={"ex06": solution_source("ex06")}, hidden=False)
    text = failed_feedback(result, "sgd_step")
    assert "changes the params it was given" in text and "left unchanged" in text, text


def test_ex07_a_new_dict_built_in_a_loop_keeps_full_marks(grade: Grade) -> None:
    source = apply_mistake(solution_source("ex07"), (
        "return {key: params[key] - lr * grads[key] for key in params}",
        "updated = dict(params)\n    for key in params:\n        updated[key] = params[key] - lr * grads[key]\n"
        "    return updated"))
    result = grade("ex07", source, extra={"ex06": solution_source("ex06")}, hidden=False)
    assert _status(result, "sgd_step") is Status.PASSED, feedback_of(result)


def test_ex05_int64_labels_are_checked_publicly(grade: Grade) -> None:
    source = apply_mistake(solution_source("ex05"), (
        "class_ids = tf.cast(labels, tf.int32)\n    picked = tf.gather(log_probabilities, class_ids, axis=1, batch_dims=1)",
        "rows = tf.range(tf.shape(labels)[0])\n"
        "    picked = tf.gather_nd(log_probabilities, tf.stack([rows, labels], axis=1))"))
    result = grade("ex05", source, hidden=False)
    [test] = [t for t in result.tests if "mean negative log-likelihood" in t.name]
    assert test.status in (Status.FAILED, Status.ERROR) and "int64" in test.feedback, test.feedback


def test_ex03_a_numpy_result_with_the_right_values_is_accepted(grade: Grade) -> None:
    source = apply_mistake(solution_source("ex03"), ("return 1.0 / (1.0 + tf.exp(-x))",
                                                     "return (1.0 / (1.0 + tf.exp(-x))).numpy()"))
    result = grade("ex03", source, hidden=False)
    assert result.points == result.max_points, feedback_of(result)
    for lesson in (solution_source("ex03"), stub_source("ex03")):  # the lesson says so, in both
        assert "numpy array with the same values" in " ".join(lesson.split())
