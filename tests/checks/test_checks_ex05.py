"""The ex05 checks (stable softmax): the solution passes, the stub is not attempted,
typical mistakes fail with feedback that names them, and the shortcuts are caught."""

from __future__ import annotations

from helpers import failed_feedback, feedback_of, solution_source, stub_source

from grader.checking.outcomes import Status

SOLUTION = solution_source("ex05")


def mistake(*replacements: tuple[str, str]) -> str:
    """The solution with some lines changed; each original must be there once."""
    source = SOLUTION
    for old, new in replacements:
        assert source.count(old) == 1, f"the solution should contain {old!r} exactly once"
        source = source.replace(old, new)
    return source


feedback = failed_feedback


def passed(result, words: str) -> bool:
    return all(t.status is Status.PASSED for t in result.tests if words in t.name)


STABLE = ("    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)\n"
          "    exponentials = tf.exp(shifted)\n")
LOG_SOFTMAX = "    return shifted - tf.math.log(tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True))"
LOGSUMEXP = ("    maximum = tf.reduce_max(x, axis=axis, keepdims=True)\n"
             "    total = tf.reduce_sum(tf.exp(x - maximum), axis=axis)\n"
             "    return tf.squeeze(maximum, axis=axis) + tf.math.log(total)")
MEAN = "    return -tf.reduce_mean(picked)"


def test_solution_gets_full_marks(grade):
    result = grade("ex05", SOLUTION)
    assert result.points == result.max_points == 15, feedback_of(result)
    assert all(t.status is Status.PASSED for t in result.tests)


def test_stub_is_not_attempted(grade):
    result = grade("ex05", stub_source("ex05"))
    assert result.points == 0 and result.status is Status.NOT_ATTEMPTED
    assert all(t.status is Status.NOT_ATTEMPTED for t in result.tests), feedback_of(result)


def test_overflow_underflow_and_sum_instead_of_mean_are_named(grade):
    result = grade("ex05", mistake(
        (STABLE, "    exponentials = tf.exp(x)\n"),
        (LOG_SOFTMAX, "    probabilities = tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, "
                      "keepdims=True)\n    return tf.math.log(probabilities)"),
        (MEAN, "    return -tf.reduce_sum(picked)"),
    ))
    text = feedback(result, "stable_softmax stays finite")
    assert "contains nan" in text and "overflows to inf" in text and "subtract the row max" in text
    text = feedback(result, "not -inf")
    assert "contains -inf" in text and "underflow" in text
    text = feedback(result, "mean negative log-likelihood")
    assert "m times too large" in text and "a sum over the batch where a mean belongs" in text
    assert passed(result, "stable_softmax of a batch") and passed(result, "logsumexp")


def test_ready_made_shortcuts_are_caught(grade):
    result = grade("ex05", mistake(
        (LOGSUMEXP, "    return tf.reduce_logsumexp(x, axis=axis)"),
        (STABLE + "    return exponentials / tf.reduce_sum(exponentials, axis=-1, keepdims=True)",
         "    return tf.nn.softmax(x)"),
    ))
    text = feedback(result, "logsumexp over the last axis")
    assert "uses tf.reduce_logsumexp, which is not allowed here" in text and "tf.reduce_max" in text
    assert "uses tf.nn.softmax, which is not allowed here" in feedback(result, "stable_softmax of a batch")
    assert "not allowed" in feedback(result, "logsumexp over a random axis", "hidden")
    # log_softmax and cross_entropy are the learner's own: they keep their points
    for title in ("not -inf", "largest values", "mean negative log-likelihood", "log_softmax of random"):
        assert passed(result, title), feedback_of(result)


def test_ignored_axis_late_shift_sign_and_dtype_are_named(grade):
    result = grade("ex05", mistake(
        (LOGSUMEXP, LOGSUMEXP.replace("axis=axis", "axis=-1")),
        (LOG_SOFTMAX, "    return x - tf.expand_dims(logsumexp(x), -1)"),
        (MEAN, "    return tf.reduce_mean(picked)"),
        (STABLE, STABLE.replace("tf.exp(shifted)", "tf.exp(tf.cast(shifted, tf.float32))")),
    ))
    text = feedback(result, "logsumexp over the last axis")
    assert "`axis` argument" in text and "shape (4,)" in text
    text = feedback(result, "largest values")
    assert "lost precision" in text and "subtract the max FIRST" in text
    assert passed(result, "not -inf")
    assert "minus sign is missing" in feedback(result, "mean negative log-likelihood")
    text = feedback(result, "float64 inputs in float64")
    assert "dtype float32" in text and "float64" in text


def test_unnamed_wrong_values_still_say_what_to_try(grade):
    result = grade("ex05", mistake(
        ("return tf.squeeze(maximum, axis=axis) + tf.math.log(total)", "return tf.math.log(total)"),
        ("    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)\n    return shifted - tf.math.log",
         "    return x - logsumexp(x)[..., None]\n    shifted = x\n    return shifted - tf.math.log")))
    text = failed_feedback(result, "logsumexp stays finite")
    assert "has the wrong values" in text and "try:" in text and "m + log(sum(exp(x - m)))" in text, text
    hidden = failed_feedback(result, "cross_entropy of random", "hidden")
    assert "try:" in hidden and "log_softmax" in hidden, hidden
