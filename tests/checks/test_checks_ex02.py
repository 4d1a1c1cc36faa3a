"""The ex02 checks (one neuron): the solution passes, the stub is not attempted,
and typical mistakes fail with feedback that names them."""

from __future__ import annotations

from helpers import apply_mistake, failed_feedback, feedback_of, solution_source, stub_source

from grader.checking.outcomes import Status

SOLUTION = solution_source("ex02")


def mistake(*replacements: tuple[str, str]) -> str:
    return apply_mistake(SOLUTION, *replacements)


feedback = failed_feedback


def test_solution_gets_full_marks(grade):
    result = grade("ex02", SOLUTION)
    assert result.points == result.max_points == 15, feedback_of(result)
    assert all(t.status is Status.PASSED for t in result.tests)


def test_stub_is_not_attempted(grade):
    result = grade("ex02", stub_source("ex02"))
    assert result.points == 0 and result.status is Status.NOT_ATTEMPTED
    assert all(t.status is Status.NOT_ATTEMPTED for t in result.tests), feedback_of(result)


def test_missing_bias_and_broadcasting_are_named(grade):
    result = grade("ex02", mistake(
        ("weighted_sum = tf.reduce_sum(x * w, axis=1, keepdims=True) + b",
         "weighted_sum = tf.reduce_sum(x * w, axis=1, keepdims=True)"),
        ("weighted_sum = tf.matmul(x, weights_as_column) + b",
         "weighted_sum = x * weights_as_column + b"),
    ))
    text = feedback(result, "neuron_sum with the identity")
    assert "without the bias b" in text
    assert "without the bias b" in feedback(result, "neuron_sum applies")
    text = feedback(result, "neuron_matmul with the identity")
    assert "expected: shape (1, 1)" in text and "shape (5, 5)" in text and "broadcasts" in text
    assert "tf.matmul" in text
    assert "(5, 5)" not in feedback(result, "neuron_sum on random inputs", "hidden")


def test_missing_activation_and_late_bias_are_named(grade):
    result = grade("ex02", mistake(
        ("weighted_sum = tf.reduce_sum(x * w, axis=1, keepdims=True) + b\n    return activation(weighted_sum)",
         "weighted_sum = tf.reduce_sum(x * w, axis=1, keepdims=True) + b\n    return weighted_sum"),
        ("weighted_sum = tf.matmul(x, weights_as_column) + b\n    return activation(weighted_sum)",
         "weighted_sum = tf.matmul(x, weights_as_column)\n    return activation(weighted_sum) + b"),
    ))
    statuses = {t.name: t.status for t in result.tests}
    assert statuses["neuron_sum with the identity activation is sum(x*w) + b, shape (1, 1)"] \
        is Status.PASSED
    assert "without the activation" in feedback(result, "neuron_sum applies")
    text = feedback(result, "neuron_matmul applies")
    assert "bias was added after the activation" in text and "add b first" in text


def test_matmul_without_transpose_fails_with_a_shape_hint_not_an_error(grade):
    result = grade("ex02", mistake(("weighted_sum = tf.matmul(x, weights_as_column) + b",
                                    "weighted_sum = tf.matmul(x, w) + b")))
    text = failed_feedback(result, "neuron_matmul with the identity")
    assert "mismatched shapes" in text and "tf.transpose(w)" in text, text
    assert "function_node" not in text and "[Op:" not in text, text
    assert failed_feedback(result, "neuron_matmul on random", "hidden")
