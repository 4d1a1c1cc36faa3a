"""The ex04 checks (layers): the solution passes, the stub is not attempted,
and typical mistakes fail with feedback that names them."""

from __future__ import annotations

from helpers import apply_mistake, failed_feedback, feedback_of, solution_source, stub_source

from grader.checking.outcomes import Status

SOLUTION = solution_source("ex04")


def mistake(*replacements: tuple[str, str]) -> str:
    return apply_mistake(SOLUTION, *replacements)


feedback = failed_feedback


def passed(result, words: str) -> bool:
    return all(t.status is Status.PASSED for t in result.tests if words in t.name)


DENSE = "return activation(tf.matmul(x, W) + b)"
FORWARD_LOOP = "for (W, b), activation in zip(params, activations):"
STDDEV = "stddev=1.0 / fan_in**0.5,"


def test_solution_gets_full_marks(grade):
    result = grade("ex04", SOLUTION)
    assert result.points == result.max_points == 15, feedback_of(result)
    assert all(t.status is Status.PASSED for t in result.tests)


def test_stub_is_not_attempted(grade):
    result = grade("ex04", stub_source("ex04"))
    assert result.points == 0 and result.status is Status.NOT_ATTEMPTED
    assert all(t.status is Status.NOT_ATTEMPTED for t in result.tests), feedback_of(result)


def test_missing_bias_one_activation_and_unscaled_weights_are_named(grade):
    result = grade("ex04", mistake(
        (DENSE, "return activation(tf.matmul(x, W))"),
        (FORWARD_LOOP, "for (W, b) in params:\n        activation = activations[0]"),
        (STDDEV, "stddev=1.0,"),
    ))
    text = feedback(result, "x @ W + b for a batch")
    assert "without the bias b" in text and "add b" in text
    # forward builds on the learner's own dense, so the missing bias shows there first
    assert "without their biases" in feedback(result, "forward through 1, 2 and 3")
    text = feedback(result, "standard deviation 1/sqrt(fan_in)")
    assert "not scaled" in text and "1/sqrt(300)" in text
    assert passed(result, "W (n_in, n_out) float32") and passed(result, "same seed")


def test_transposed_weights_fan_out_and_first_activation_everywhere_are_named(grade):
    result = grade("ex04", mistake(
        (DENSE, "return activation(tf.matmul(x, tf.transpose(W)) + b)"
                " if W.shape[0] == W.shape[1] else activation(tf.matmul(x, W) + b)"),
        (FORWARD_LOOP, "for (W, b) in params:\n        activation = activations[0]"),
        (STDDEV, "stddev=1.0 / fan_out**0.5,"),
    ))
    text = feedback(result, "square W")
    assert "transposed" in text and "tf.matmul(x, W)" in text
    text = feedback(result, "forward through 1, 2 and 3")
    assert "FIRST activation" in text and "zip(params, activations)" in text
    assert "fan-out" in feedback(result, "standard deviation 1/sqrt(fan_in)")
    assert passed(result, "x @ W + b for a batch")


def test_early_return_and_unseeded_weights_are_named(grade):
    result = grade("ex04", mistake(
        ("        output = dense(output, W, b, activation)\n    return output",
         "        output = dense(output, W, b, activation)\n        return output"),
        ("W = tf.random.stateless_normal(\n            (fan_in, fan_out),\n            seed=[seed, layer_index],",
         "W = tf.random.normal(\n            (fan_in, fan_out),"),
    ))
    text = feedback(result, "forward through 1, 2 and 3")
    assert "FIRST layer's output" in text and "feed each layer's output" in text
    text = feedback(result, "same weights for the same seed")
    assert "same seed gave different weights" in text
    assert passed(result, "standard deviation 1/sqrt(fan_in)")


def test_transposed_weight_shapes_are_named(grade):
    result = grade("ex04", mistake(
        ("(fan_in, fan_out),\n            seed", "(fan_out, fan_in),\n            seed"),
    ))
    text = feedback(result, "W (n_in, n_out) float32")
    assert "transposed" in text and "(300, 200)" in text


def test_transposed_weights_that_cannot_multiply_fail_with_a_shape_hint(grade):
    result = grade("ex04", mistake((DENSE, "return activation(tf.matmul(x, W, transpose_b=True) + b)")))
    for words, visibility in (("dense(x, W, b, identity)", "public"), ("forward through 1, 2", "public"),
                              ("dense on random", "hidden")):
        text = failed_feedback(result, words, visibility)
        assert "raised an error about mismatched shapes" in text, text
        assert "no transpose" in text and "function_node" not in text, text
    assert not any(t.status is Status.ERROR for t in result.tests), feedback_of(result)
