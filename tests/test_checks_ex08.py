"""The ex08 checks (a Keras MLP on MNIST): the solution passes, the stub is not attempted,
typical mistakes fail on the fast public checks with feedback that names them, and the
hidden full-training score gives partial credit below 98 %."""

from __future__ import annotations

import pytest
from conftest import apply_mistake, feedback_of, solution_source, stub_source

from grader.checking.outcomes import Status
from grader.checks.hidden.test_ex08_mnist_mlp import training_settings
from grader.checks.public.test_ex08_mnist_mlp import learner_constant

SOLUTION = solution_source("ex08")


def mistake(*replacements: tuple[str, str]) -> str:
    return apply_mistake(SOLUTION, *replacements)


def check(result, words: str):
    [test] = [t for t in result.tests if words in t.name]
    return test


@pytest.mark.slow
def test_solution_gets_full_marks(grade):
    result = grade("ex08", SOLUTION)
    assert result.points == result.max_points > 0, feedback_of(result)
    assert all(t.status is Status.PASSED for t in result.tests)
    assert {t.visibility for t in result.tests} == {"public", "hidden"}


@pytest.mark.slow
def test_a_weak_model_gets_partial_credit_with_its_accuracy(grade):
    weak = mistake(("HIDDEN_UNITS = 512", "HIDDEN_UNITS = 32"), ("EPOCHS = 6", "EPOCHS = 1"),
                   ("BATCH_SIZE = 256", "BATCH_SIZE = 128"))
    result = grade("ex08", weak)
    hidden = [t for t in result.tests if t.visibility == "hidden"]
    earned = sum(t.points for t in hidden)
    assert 0 < earned < sum(t.max_points for t in hidden), feedback_of(result)
    failed = [t for t in hidden if t.status is Status.FAILED]
    assert failed and "of the 10,000 test images right" in failed[0].feedback
    assert "epochs=1, batch_size=128" in failed[0].feedback


def test_stub_is_not_attempted(grade):
    result = grade("ex08", stub_source("ex08"))
    assert result.points == 0 and result.status is Status.NOT_ATTEMPTED
    assert all(t.status is Status.NOT_ATTEMPTED for t in result.tests), feedback_of(result)


def test_a_convolution_is_not_an_mlp(grade):
    result = grade("ex08", mistake((
        '    x = keras.layers.Flatten(name="flatten")(x)\n',
        '    x = keras.layers.Reshape((28, 28, 1))(x)\n'
        '    x = keras.layers.Conv2D(2, 3, strides=3, activation="relu")(x)\n'
        '    x = keras.layers.Flatten(name="flatten")(x)\n',
    )), hidden=False)
    test = check(result, "MLP")
    assert test.status is Status.FAILED, feedback_of(result)
    assert "Conv2D is a convolution; this exercise asks for an MLP of Dense layers" in test.feedback


def test_nine_outputs_are_named(grade):
    result = grade("ex08", mistake(("NUM_CLASSES = 10", "NUM_CLASSES = 9")), hidden=False)
    test = check(result, "10 scores per image")
    assert test.status is Status.FAILED, feedback_of(result)
    assert "9 outputs" in test.feedback and "10 classes" in test.feedback
    assert "Dense(10)" in test.feedback
    assert check(result, "an MLP").status is Status.PASSED


def test_a_model_that_is_never_compiled(grade):
    result = grade("ex08", mistake(("    model.compile(\n", "    return model\n    model.compile(\n")),
                   hidden=False)
    test = check(result, "compiles the model")
    assert test.status is Status.FAILED, feedback_of(result)
    assert "not compiled" in test.feedback and "model.compile(" in test.feedback
    assert check(result, "one epoch of train()").status is not Status.PASSED


def test_train_must_return_the_history(grade):
    result = grade("ex08", mistake(("return model.fit(", "model.fit(")), hidden=False)
    test = check(result, "one epoch of train()")
    assert test.status is Status.FAILED, feedback_of(result)
    assert "History" in test.feedback and "return model.fit" in test.feedback
    assert result.points == result.max_points - test.max_points


@pytest.mark.jax
def test_the_public_checks_run_on_the_jax_backend(grade, monkeypatch):
    pytest.importorskip("jax")
    monkeypatch.setenv("KERAS_BACKEND", "jax")  # the child inherits it; the parent needs no framework
    result = grade("ex08", SOLUTION, hidden=False)
    assert result.points == result.max_points > 0, feedback_of(result)


def test_training_settings_are_read_without_running_the_file():
    assert training_settings("x = 1\n") == (10, 128)
    assert training_settings("EPOCHS = 6\nBATCH_SIZE: int = 256\n") == (6, 256)
    assert training_settings("EPOCHS = 50\nBATCH_SIZE = 1\n") == (10, 32)
    assert training_settings("EPOCHS = 0\nBATCH_SIZE = 10**6\n") == (1, 128)  # not a literal
    assert training_settings("EPOCHS = 3.0\nBATCH_SIZE = True\n") == (3, 128)
    assert training_settings("EPOCHS = open('/etc/passwd')\nBATCH_SIZE = 'big'\n") == (10, 128)
    assert training_settings("def f(:\n") == (10, 128)
    assert learner_constant("EPOCHS = 4\nEPOCHS = 7\n", "EPOCHS", 10, 1, 10) == 7  # the last wins
    assert learner_constant("if True:\n    EPOCHS = 2\n", "EPOCHS", 10, 1, 10) == 10  # top level only


def test_a_convolution_scores_no_accuracy_step(grade):
    result = grade("ex08", mistake((
        '    x = keras.layers.Flatten(name="flatten")(x)\n',
        '    x = keras.layers.Reshape((28, 28, 1))(x)\n'
        '    x = keras.layers.Conv2D(2, 3, strides=3, activation="relu")(x)\n'
        '    x = keras.layers.Flatten(name="flatten")(x)\n',
    )))
    steps = [t for t in result.tests if t.visibility == "hidden"]
    assert steps and all(t.status is Status.FAILED and t.points == 0 for t in steps), feedback_of(result)
    assert all("counts only for an MLP: Conv2D is a convolution" in t.feedback for t in steps)
