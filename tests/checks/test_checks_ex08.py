"""The ex08 checks (a Keras MLP on MNIST): the solution passes, the stub is not attempted,
typical mistakes fail on the fast public checks with feedback that names them, and the
hidden full-training score gives partial credit below 98 %."""

from __future__ import annotations

import pytest
from helpers import apply_mistake, feedback_of, solution_source, stub_source

from grader.checking.mlp import MAX_PARAMS
from grader.checking.outcomes import Status
from grader.checks.ex08_training import training_settings
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
    assert "not an MLP this grader can evaluate: layer 4 ('conv2d') is a Conv2D, a convolution" in test.feedback
    assert "Dense (activation" in test.feedback  # what the grader supports


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
    assert all("no accuracy points: not an MLP this grader can evaluate" in t.feedback
               and "is a Conv2D, a convolution" in t.feedback for t in steps)


# ---------------------------------------------------------------- cheats (issue 9, findings 1 and 2)
# Each learner file trains for real, but tiny and fast. Before the accuracy came from the weights,
# the lookup scored every accuracy step and the renamed CNN counted as an MLP.

def hidden_steps(result):
    steps = [t for t in result.tests if t.visibility == "hidden"]
    assert len(steps) == 5
    return steps


def tiny(source: str) -> str:
    """Train on 32 images for one epoch: a model that has learned (almost) nothing."""
    return apply_mistake(source, ("EPOCHS = 6", "EPOCHS = 1"), ("BATCH_SIZE = 256", "BATCH_SIZE = 32"),
                         ("    return model.fit(x, y,", "    return model.fit(x[:32], y[:32],"))


def lookup_source() -> str:
    """The solution's model trained on 32 images, whose predict() answers the public MNIST test
    images from a table of their labels keyed by a hash of the image."""
    import zlib

    from grader.course.mnist import load_mnist

    images, labels = load_mnist("test")
    table = "".join(f"{zlib.crc32(image.tobytes()):08x}{label}" for image, label in zip(images, labels))
    cheat = (
        "import zlib\n"
        f"TABLE = {table!r}\n"
        "LABELS = {TABLE[i:i + 8]: int(TABLE[i + 8]) for i in range(0, len(TABLE), 9)}\n\n\n"
        "def _lookup(model):\n"
        "    honest = model.predict\n\n"
        "    def predict(images, *args, **kwargs):\n"
        "        keys = [f'{zlib.crc32(np.asarray(i, np.uint8).tobytes()):08x}' for i in images]\n"
        "        if not all(k in LABELS for k in keys):\n"
        "            return honest(images, *args, **kwargs)\n"
        "        return np.eye(10, dtype=np.float32)[[LABELS[k] for k in keys]]\n\n"
        "    model.predict = predict\n"
        "    return model\n\n\n"
        "def build_model() -> keras.Model:\n"
    )
    return tiny(apply_mistake(SOLUTION, ("def build_model() -> keras.Model:\n", cheat),
                              ('    return keras.Model(inputs, logits, name="mnist_mlp")',
                               '    return _lookup(keras.Model(inputs, logits, name="mnist_mlp"))')))


def test_a_predict_that_looks_up_the_test_labels_earns_no_accuracy_point(grade):
    result = grade("ex08", lookup_source())
    steps = hidden_steps(result)
    assert all(t.status is Status.FAILED and t.points == 0 for t in steps), feedback_of(result)
    assert all("of the 10,000 test images right" in t.feedback for t in steps)
    assert "epochs=1, batch_size=32" in steps[0].feedback
    assert check(result, "an MLP").status is Status.PASSED  # its weights are an honest (weak) MLP


RENAMED_CNN = """
import keras
import numpy as np

EPOCHS = 1
BATCH_SIZE = 256


class Dense(keras.layers.Conv2D):
    \"\"\"A convolution that calls itself Dense, and even claims a Dense layer's config.\"\"\"

    def get_config(self):
        return {**super().get_config(), "units": self.filters, "activation": "relu", "use_bias": True}


def build_model():
    inputs = keras.Input(shape=(28, 28))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Reshape((28, 28, 1))(x)
    x = Dense(4, 3, strides=2, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def compile_model(model, learning_rate=1e-3):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def train(model, x, y, epochs, batch_size):
    compile_model(model)
    return model.fit(x[:512], y[:512], epochs=epochs, batch_size=batch_size, verbose=0)
"""


def test_a_cnn_with_its_classes_renamed_is_not_an_mlp(grade):
    result = grade("ex08", RENAMED_CNN)
    test = check(result, "an MLP")
    assert test.status is Status.FAILED, feedback_of(result)
    assert "layer 4 ('dense') is reported as Dense, but its weights have shapes (3, 3, 1, 4)" in test.feedback
    assert "a 4-D kernel is a convolution's" in test.feedback
    steps = hidden_steps(result)
    assert all(t.status is Status.FAILED and t.points == 0 for t in steps), feedback_of(result)
    assert all("no accuracy points: not an MLP this grader can evaluate" in t.feedback for t in steps)
    assert check(result, "one epoch of train()").status is Status.FAILED


def test_a_model_over_the_parameter_cap_earns_no_accuracy_point(grade):
    hidden_units = MAX_PARAMS // 784 + 50  # 2,600 units: 2,067,010 parameters
    result = grade("ex08", tiny(mistake(("HIDDEN_UNITS = 512", f"HIDDEN_UNITS = {hidden_units}"))))
    words = f"more than the {MAX_PARAMS:,} this grader accepts"
    assert words in check(result, "an MLP").feedback, feedback_of(result)
    steps = hidden_steps(result)
    assert all(t.status is Status.FAILED and t.points == 0 for t in steps), feedback_of(result)
    assert all(words in t.feedback and "no accuracy points" in t.feedback for t in steps)


def test_a_sequential_model_without_an_input_keeps_full_public_marks(grade):
    """An honest variant: keras.Sequential with no keras.Input is built only on its first call;
    the grader builds it (with random images) before it reads its weights."""
    sequential = mistake((
        '    inputs = keras.Input(shape=(28, 28), name="image")\n',
        '    return keras.Sequential([keras.layers.Rescaling(1.0 / 255.0), keras.layers.Flatten(),\n'
        '                             keras.layers.Dense(HIDDEN_UNITS, activation="relu"),\n'
        '                             keras.layers.Dense(NUM_CLASSES)])\n'
        '    inputs = keras.Input(shape=(28, 28), name="image")\n',
    ))
    result = grade("ex08", sequential, hidden=False)
    assert result.points == result.max_points > 0, feedback_of(result)


SUBCLASSED = SOLUTION.replace("def build_model() -> keras.Model:\n", '''class Doubled(keras.Model):
    """Its layers, in order, are an MLP; its call() doubles the hidden layer first."""

    def __init__(self):
        super().__init__()
        self.scale = keras.layers.Rescaling(1.0 / 255.0)
        self.flatten = keras.layers.Flatten()
        self.hidden = keras.layers.Dense(64, activation="relu")
        self.logits = keras.layers.Dense(10)

    def call(self, x):
        h = self.hidden(self.flatten(self.scale(x)))
        return self.logits(h + h)


def build_model() -> keras.Model:
    model = Doubled()
    model(np.zeros((1, 28, 28), dtype="float32"))
    return model


def _unused_build_model() -> keras.Model:
''', 1)


def test_a_model_that_computes_more_than_its_layers_is_told_so(grade):
    """What the grader cannot rebuild faithfully is said, not scored as something else."""
    result = grade("ex08", SUBCLASSED, hidden=False)
    test = check(result, "10 scores per image")
    assert test.status is Status.FAILED, feedback_of(result)
    assert "does not compute what your model computes" in test.feedback
    assert "keras.Sequential" in test.feedback
