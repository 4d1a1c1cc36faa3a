"""The ex06 checks (backprop by hand): the solution passes, the stub is not attempted,
and typical mistakes fail with feedback that names them."""

from __future__ import annotations

from helpers import apply_mistake, failed_feedback, feedback_of, solution_source, stub_source

from grader.checking.outcomes import Status

SOLUTION = solution_source("ex06")


def mistake(*replacements: tuple[str, str]) -> str:
    return apply_mistake(SOLUTION, *replacements)


def statuses(result) -> dict[str, Status]:
    return {test.name: test.status for test in result.tests}




def test_solution_gets_full_marks(grade):
    result = grade("ex06", SOLUTION)
    assert result.points == result.max_points > 0, feedback_of(result)
    assert all(t.status is Status.PASSED for t in result.tests)
    assert {t.visibility for t in result.tests} == {"public", "hidden"}


def test_stub_is_not_attempted(grade):
    result = grade("ex06", stub_source("ex06"))
    assert result.points == 0 and result.status is Status.NOT_ATTEMPTED
    assert all(t.status is Status.NOT_ATTEMPTED for t in result.tests), feedback_of(result)


def test_sign_error_is_named(grade):
    result = grade("ex06", mistake(("(P - tf.one_hot(y, number_of_classes, dtype=P.dtype))",
                                    "(tf.one_hot(y, number_of_classes, dtype=P.dtype) - P)")))
    feedback = failed_feedback(result, "output layer")
    assert "wrong sign" in feedback and "negative" in feedback
    assert statuses(result)["forward returns the mean cross-entropy loss of the batch"] is Status.PASSED


def test_missing_sigmoid_derivative_is_named(grade):
    result = grade("ex06", mistake(("dL1 = dS * S * (1.0 - S)", "dL1 = dS")))
    feedback = failed_feedback(result, "through the sigmoid")
    assert "without the sigmoid's derivative" in feedback and "S * (1 - S)" in feedback
    # The output layer does not go through the sigmoid: it still passes.
    assert statuses(result)["dW2 and db2 (the output layer) match tf.GradientTape"] is Status.PASSED
    assert 0 < result.points < result.max_points


def test_sum_instead_of_mean_is_named(grade):
    result = grade("ex06", mistake((" / batch_size\n", "\n"),
                                   ("loss = -tf.reduce_mean(picked)", "loss = -tf.reduce_sum(picked)")))
    feedback = failed_feedback(result, "mean cross-entropy")
    assert "6 times too large" in feedback and "mean" in feedback
    for title in ("output layer", "through the sigmoid"):
        feedback = failed_feedback(result, title)
        assert "m = 6 times too large" in feedback and "MEAN" in feedback


def test_transposed_weight_gradient_and_unsummed_bias_gradient_are_named(grade):
    result = grade("ex06", mistake(
        ("dW2 = tf.matmul(S, dL2, transpose_a=True)", "dW2 = tf.matmul(dL2, S, transpose_a=True)"),
        ("db1 = tf.reduce_sum(dL1, axis=0)", "db1 = dL1"),
    ))
    feedback = failed_feedback(result, "output layer")
    assert "shape (5, 4)" in feedback and "shape (4, 5)" in feedback and "transposed" in feedback
    feedback = failed_feedback(result, "through the sigmoid")
    assert "db1" in feedback and "sum over the rows" in feedback and "axis=0" in feedback
    feedback = failed_feedback(result, "each the shape of its parameter")
    assert "transposed" in feedback


def test_gradient_tape_is_forbidden(grade):
    by_tape = '''
def backward(params, cache):
    variables = {key: tf.Variable(value) for key, value in params.items()}
    with tf.GradientTape() as tape:
        loss, _ = forward(variables, cache["x"], cache["y"])
    return tape.gradient(loss, variables)
'''
    start = SOLUTION.index("def backward(")
    end = SOLUTION.index('\nif __name__ == "__main__":')
    result = grade("ex06", SOLUTION[:start] + by_tape.lstrip() + "\n" + SOLUTION[end:])
    feedback = failed_feedback(result, "without GradientTape")
    assert "tf.GradientTape" in feedback and "not allowed" in feedback
    # Every gradient check refuses the tape's (correct) values, public and hidden.
    gradient_checks = [t for t in result.tests if "gradient" in t.name.lower()
                       and "shape of its parameter" not in t.name]
    assert gradient_checks and all(t.status is Status.FAILED for t in gradient_checks)
    assert all("GradientTape" in t.feedback for t in gradient_checks)
    assert result.points == 3  # the loss (2) and the shapes (1) are still right


def test_forward_points_do_not_depend_on_backward(grade):
    unfinished = mistake(('    x, S, P, y = cache["x"], cache["S"], cache["P"], cache["y"]\n',
                          '    raise NotImplementedError\n    x, S, P, y = cache["x"], cache["S"], cache["P"], cache["y"]\n'))
    result = grade("ex06", unfinished, hidden=False)
    assert statuses(result)["forward returns the mean cross-entropy loss of the batch"] is Status.PASSED, \
        feedback_of(result)
    as_list = mistake(('return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}', "return [dW1, db1, dW2, db2]"))
    result = grade("ex06", as_list, hidden=False)
    assert statuses(result)["forward returns the mean cross-entropy loss of the batch"] is Status.PASSED, \
        feedback_of(result)
    text = failed_feedback(result, "one gradient per parameter")
    assert "a list of 4 items: shape (3, 5), shape (5,)" in text and "array(" not in text, text
