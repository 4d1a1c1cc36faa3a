"""The ex07 checks (gradient descent): the solution passes, the stub is not attempted,
and typical mistakes fail with feedback that names them. ex07 imports the learner's
ex06, so every run gets the ex06 solution next to it."""

from __future__ import annotations

from helpers import apply_mistake, failed_feedback, feedback_of, solution_source, stub_source

from grader.checking.outcomes import Status

SOLUTION = solution_source("ex07")
WITH_EX06 = {"ex06": solution_source("ex06")}


def mistake(old: str, new: str) -> str:
    assert old in SOLUTION, f"the solution no longer contains {old!r}"
    return SOLUTION.replace(old, new)


feedback_for = failed_feedback


def test_solution_gets_full_marks(grade):
    result = grade("ex07", SOLUTION, extra=WITH_EX06)
    assert result.points == result.max_points > 0, feedback_of(result)
    assert all(t.status is Status.PASSED for t in result.tests)
    assert {t.visibility for t in result.tests} == {"public", "hidden"}


def test_stub_is_not_attempted(grade):
    result = grade("ex07", stub_source("ex07"), extra={"ex06": stub_source("ex06")})
    assert result.points == 0 and result.status is Status.NOT_ATTEMPTED
    assert all(t.status is Status.NOT_ATTEMPTED for t in result.tests), feedback_of(result)


def test_without_the_ex06_file_ex07_is_not_attempted_and_says_why(grade):
    result = grade("ex07", SOLUTION)
    assert result.points == 0
    assert all(t.status is Status.NOT_ATTEMPTED for t in result.tests), feedback_of(result)
    assert "ex06_backprop.py" in result.tests[0].feedback


def test_adding_the_gradient_is_named(grade):
    result = grade("ex07", mistake("params[key] - lr * grads[key]", "params[key] + lr * grads[key]"),
                   extra=WITH_EX06)
    feedback = feedback_for(result, "sgd_step moves every parameter")
    assert "ADDED the gradient" in feedback and "W - lr * dW" in feedback
    assert "did not go down" in feedback_for(result, "loss goes down")
    assert "%" in feedback_for(result, "95 % accuracy")
    assert result.points == 0, feedback_of(result)


def test_missing_learning_rate_is_named(grade):
    result = grade("ex07", mistake("params[key] - lr * grads[key]", "params[key] - grads[key]"),
                   extra=WITH_EX06)
    feedback = feedback_for(result, "sgd_step moves every parameter")
    assert "learning rate lr is missing" in feedback
    assert "learning rate" in feedback_for(result, "one gradient-descent step", "hidden")


def test_fit_ignoring_its_lr_is_named(grade):
    result = grade("ex07", mistake("params = sgd_step(params, grads, lr)",
                                   "params = sgd_step(params, grads, 0.1)"), extra=WITH_EX06)
    feedback = feedback_for(result, "one gradient-descent step", "hidden")
    assert "learning rate of 0.1 instead of lr" in feedback
    assert "%" in feedback_for(result, "95 % accuracy")  # too small a step to learn in time
    passed = {t.name for t in result.tests if t.status is Status.PASSED}
    assert "sgd_step moves every parameter against its gradient: W - lr * dW" in passed


def test_fit_dropping_the_update_is_named(grade):
    result = grade("ex07", mistake("params = sgd_step(params, grads, lr)",
                                   "sgd_step(params, grads, lr)"), extra=WITH_EX06)
    assert "did not change the parameters" in feedback_for(result, "one gradient-descent step",
                                                           "hidden")
    assert "did not go down" in feedback_for(result, "loss goes down")
    assert "right" in feedback_for(result, "95 % accuracy")


def test_a_bias_gradient_from_ex06_with_one_row_per_example_is_traced_to_ex06(grade):
    ex06 = solution_source("ex06").replace("db2 = tf.reduce_sum(dL2, axis=0)", "db2 = dL2")
    result = grade("ex07", SOLUTION, extra={"ex06": ex06}, hidden=False)
    text = feedback_for(result, "fit reaches")
    assert "params['b2'] from fit has the wrong shape" in text, text
    assert "exercise-6 backward" in text and "axis=0" in text, text


def test_an_error_inside_the_learners_ex06_is_traced_to_ex06(grade):
    ex06 = apply_mistake(solution_source("ex06"),
                         ("dS = tf.matmul(dL2, params[\"W2\"], transpose_b=True)",
                          "dS = tf.matmul(dL2, params[\"W2\"])"))
    result = grade("ex07", SOLUTION, extra={"ex06": ex06}, hidden=False)
    text = feedback_for(result, "fit reaches")
    assert "error inside your exercise-6 code" in text, text
    assert "grader check ex06" in text and "ex06_backprop.py" in text, text
    assert "function_node" not in text, text
