"""The ex03 checks (activations by hand): the solution passes, the stub is not attempted,
typical mistakes fail with feedback that names them, and ready-made activations are caught."""

from __future__ import annotations

from helpers import apply_mistake, failed_feedback, feedback_of, solution_source, stub_source

from grader.checking.outcomes import Status

SOLUTION = solution_source("ex03")
TANH = ("    decay = tf.exp(-2.0 * tf.abs(x))  # in (0, 1]: never overflows\n"
        "    return tf.sign(x) * (1.0 - decay) / (1.0 + decay)")


def mistake(*replacements: tuple[str, str]) -> str:
    return apply_mistake(SOLUTION, *replacements)


feedback = failed_feedback


def passed(result, words: str) -> bool:
    return all(t.status is Status.PASSED for t in result.tests if words in t.name)


def test_solution_gets_full_marks(grade):
    result = grade("ex03", SOLUTION)
    assert result.points == result.max_points == 15, feedback_of(result)
    assert all(t.status is Status.PASSED for t in result.tests)


def test_stub_is_not_attempted(grade):
    result = grade("ex03", stub_source("ex03"))
    assert result.points == 0 and result.status is Status.NOT_ATTEMPTED
    assert all(t.status is Status.NOT_ATTEMPTED for t in result.tests), feedback_of(result)


def test_sign_error_overflow_abs_and_wrong_axis_are_named(grade):
    result = grade("ex03", mistake(
        ("return 1.0 / (1.0 + tf.exp(-x))", "return 1.0 / (1.0 + tf.exp(x))"),
        (TANH,
         "    return (tf.exp(x) - tf.exp(-x)) / (tf.exp(x) + tf.exp(-x))"),
        ("return tf.maximum(x, tf.zeros_like(x))", "return tf.abs(x)"),
        ("axis=-1, keepdims=True)\n    exponentials", "axis=0, keepdims=True)\n    exponentials"),
        ("tf.reduce_sum(exponentials, axis=-1, keepdims=True)",
         "tf.reduce_sum(exponentials, axis=0, keepdims=True)"),
    ))
    assert "sign error" in feedback(result, "sigmoid(x) = 1")
    text = feedback(result, "tanh(x) lies")
    assert "contains nan" in text and "overflows for large |x|" in text and "sign(x)" in text, text
    assert "abs(x)" in feedback(result, "relu(x) = max")
    text = feedback(result, "softmax of a (3, 4) batch")
    assert "wrong axis" in text and "axis=-1" in text
    assert result.points == 0


def test_all_entries_min_and_sigmoid_for_tanh_are_named(grade):
    result = grade("ex03", mistake(
        (TANH, "    return sigmoid(x)"),
        ("return tf.maximum(x, tf.zeros_like(x))", "return tf.minimum(x, tf.zeros_like(x))"),
        ("tf.reduce_sum(exponentials, axis=-1, keepdims=True)", "tf.reduce_sum(exponentials)"),
    ))
    assert "match sigmoid(x)" in feedback(result, "tanh(x) lies")
    assert "min(x, 0)" in feedback(result, "relu(x) = max")
    text = feedback(result, "softmax of a (3, 4) batch")
    assert "EVERY entry" in text and "axis=-1" in text
    text = feedback(result, "rank-3")
    assert "wrong axis" in text
    assert passed(result, "sigmoid(x) = 1")


def test_ready_made_softmax_costs_only_the_softmax_points(grade):
    result = grade("ex03", mistake(
        ("    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)\n"
         "    exponentials = tf.exp(shifted)\n"
         "    return exponentials / tf.reduce_sum(exponentials, axis=-1, keepdims=True)",
         "    return tf.nn.softmax(x, axis=-1)"),
    ))
    text = feedback(result, "softmax of a (3, 4) batch")
    assert "uses tf.nn.softmax, which is not allowed here" in text and "tf.exp" in text
    assert "line " in text
    assert "tf.nn.softmax" in feedback(result, "softmax over the last axis of random", "hidden")
    for title in ("sigmoid(x) = 1", "tanh(x) lies", "relu(x) = max", "relu on random"):
        assert passed(result, title), feedback_of(result)
    assert result.points == 15 - 4 - 2


def test_aliased_import_is_caught(grade):
    result = grade("ex03", mistake(
        ("import tensorflow as tf\n", "import tensorflow as tf\nfrom tensorflow import math as m\n"),
        (TANH, "    return m.tanh(x)"),
    ))
    text = feedback(result, "tanh(x) lies")
    assert "uses tf.math.tanh" in text and "not allowed" in text
    assert passed(result, "relu(x) = max") and passed(result, "softmax of a (3, 4) batch")


def test_tanh_sign_hint_gives_a_formula_that_stays_finite(grade):
    result = grade("ex03", mistake((TANH, "    return 1.0 - 2.0 * sigmoid(2.0 * x)")))
    text = failed_feedback(result, "tanh(x) lies")
    assert "-tanh(x): a sign error" in text, text
    assert "2 * sigmoid(2x) - 1" in text and "(1 - exp(-2x))" not in text, text


def test_one_sided_tanh_is_named_as_overflowing_for_large_negative_x(grade):
    """(1 - exp(-2x)) / (1 + exp(-2x)) was once taught here as "never overflows": nan at x = -100."""
    result = grade("ex03", mistake((TANH, "    return (1.0 - tf.exp(-2.0 * x)) / (1.0 + tf.exp(-2.0 * x))")))
    text = failed_feedback(result, "tanh(x) lies")
    assert "contains nan" in text and "large negative x" in text and "exp(200)" in text, text
    assert "sign(x) * (1 - exp(-2|x|))" in text, text
    text = failed_feedback(result, "sigmoid and tanh on random", "hidden")
    assert "large negative x" in text, text
    assert passed(result, "relu(x) = max") and passed(result, "sigmoid(x) = 1")


def test_tanh_as_two_sigmoids_minus_one_stays_full_marks(grade):
    """The other stable form, 2 * sigmoid(2x) - 1, is right for both signs and keeps every point."""
    result = grade("ex03", mistake((TANH, "    return 2.0 * sigmoid(2.0 * x) - 1.0")))
    assert result.points == result.max_points, feedback_of(result)
