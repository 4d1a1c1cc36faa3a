"""grader.checking.mlp: a model rebuilt from plain data, checked by what it carries, scored by numpy.

The fast tests feed hand-made exports (what a hostile child could send); the slow ones
export real Keras models with the child's own export_model and compare our forward pass
with Keras' predict.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from grader.checking.mlp import MAX_PARAMS, NotEvaluable, ShapeMismatch, accuracy, rebuild
from grader.engine.inside import protocol

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(16, 28, 28), dtype=np.uint8)


def dense(name: str, units: int, inputs: int, activation: str = "relu", cls: str = "Dense") -> dict:
    kernel = RNG.normal(0, 0.05, (inputs, units)).astype(np.float32)
    return {"class": cls, "name": name, "config": {"units": units, "activation": activation, "use_bias": True},
            "weight_shapes": [[inputs, units], [units]], "weights": [kernel, np.zeros(units, np.float32)]}


def plain(cls: str, name: str, **config: object) -> dict:
    return {"class": cls, "name": name, "config": config, "weight_shapes": [], "weights": []}


def lesson_mlp(hidden: int = 32) -> list[dict]:
    return [plain("InputLayer", "image", batch_shape=[None, 28, 28]),
            plain("Rescaling", "scale", scale=1 / 255, offset=0.0),
            plain("Flatten", "flatten", data_format="channels_last"),
            dense("hidden", hidden, 784), dense("logits", 10, hidden, "linear")]


def test_the_forward_pass_is_the_mlp_written_out():
    layers = lesson_mlp()
    mlp = rebuild({"layers": layers})
    assert mlp.kinds() == ["input", "rescaling", "flatten", "dense", "dense"]
    assert mlp.params == 784 * 32 + 32 + 32 * 10 + 10
    w1, b1 = layers[3]["weights"]
    w2, b2 = layers[4]["weights"]
    x = IMAGES.reshape(16, 784).astype(np.float64) / 255
    expected = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(mlp.forward(IMAGES), expected, rtol=1e-4, atol=1e-5)
    labels = np.argmax(expected, axis=1)
    assert accuracy(mlp, IMAGES, labels) == 1.0 and accuracy(mlp, IMAGES, (labels + 1) % 10) == 0.0


def test_a_convolution_named_dense_is_refused_by_its_kernel():
    layers = lesson_mlp()
    conv = dense("dense", 2, 1)
    conv["weights"] = [RNG.normal(size=(3, 3, 1, 2)).astype(np.float32), np.zeros(2, np.float32)]
    conv["config"].update(filters=2, kernel_size=[3, 3])  # even with the keys a Dense must have
    layers[2:2] = [plain("Reshape", "reshape", target_shape=[28, 28, 1]), conv]
    with pytest.raises(NotEvaluable) as failure:
        rebuild({"layers": layers})
    text = str(failure.value)
    assert text.startswith("not an MLP this grader can evaluate: layer 4 ('dense') is reported as Dense")
    assert "(3, 3, 1, 2)" in text and "a 4-D kernel is a convolution's" in text
    assert "Dense (activation" in text  # what we support


def test_a_convolution_named_dense_without_units_is_refused_by_its_config():
    layers = lesson_mlp()
    layers[3]["config"] = {"filters": 32, "kernel_size": [3, 3], "activation": "relu", "use_bias": True}
    with pytest.raises(NotEvaluable, match="its config has no units, which every Dense layer has"):
        rebuild({"layers": layers})


@pytest.mark.parametrize(("layer", "words"), [
    (plain("Conv2D", "c", filters=2), "is a Conv2D, a convolution"),
    (plain("MaxPooling2D", "p"), "a pooling layer"),
    (plain("Lambda", "l", function="x"), "Lambda layer, which can hide any computation"),
    (plain("MyLayer", "m"), "is a MyLayer, not a kind of layer this grader evaluates"),
    (dense("d", 10, 32, activation="my_activation"), "activation 'my_activation'"),
    (dense("d", 10, 32, activation={"class_name": "function"}), "activation {'class_name'"),
    (plain("Normalization", "n", axis=[-1], invert=True, mean=0.5, variance=0.25), "invert=True"),
    (plain("Rescaling", "r", scale="1/255", offset=0.0), "scale '1/255', not a finite number"),
])
def test_unsupported_layers_are_named(layer, words):
    layers = lesson_mlp()
    layers.insert(4, layer)
    with pytest.raises(NotEvaluable) as failure:
        rebuild({"layers": layers})
    assert "not an MLP this grader can evaluate: layer 5" in str(failure.value)
    assert words in str(failure.value)


def test_the_parameter_cap_counts_every_weight_even_unsent():
    assert rebuild({"layers": lesson_mlp(hidden=2000)}).params < MAX_PARAMS  # 784-2000-10 is allowed
    big = lesson_mlp(hidden=2600)
    for record in big:
        record["weights"] = None  # what the child sends for a model over the cap: shapes only
    with pytest.raises(NotEvaluable, match=r"2,067,010 parameters, more than the 2,000,000"):
        rebuild({"layers": big})


def test_weights_that_were_not_sent_are_refused():
    layers = lesson_mlp()
    layers[3]["weights"] = None
    with pytest.raises(NotEvaluable, match="did not send its weights"):
        rebuild({"layers": layers})


@pytest.mark.parametrize("export", [None, {"layers": "x"}, {"layers": [1, 2]}, {"layers": [{}] * 70}])
def test_malformed_exports_are_refused(export):
    with pytest.raises(NotEvaluable):
        rebuild(export)


def test_shapes_are_checked_before_any_work():
    no_flatten = [layer for layer in lesson_mlp() if layer["class"] != "Flatten"]
    mlp = rebuild({"layers": no_flatten})
    with pytest.raises(ShapeMismatch, match="takes 784 numbers along the last axis, but gets shape"):
        mlp.forward(IMAGES)
    wide = lesson_mlp()
    wide[2:3] = [plain("Reshape", "r", target_shape=[784, 1]), dense("d", 1000, 1)]
    with pytest.raises(NotEvaluable, match="numbers per image, more than this grader computes"):
        rebuild({"layers": wide}).forward(IMAGES)
    wrong_input = lesson_mlp()
    wrong_input[0]["config"]["batch_shape"] = [None, 784]
    with pytest.raises(ShapeMismatch, match=r"declares inputs of shape \(None, 784\)"):
        rebuild({"layers": wrong_input}).output_shape((28, 28))


# ---------------------------------------------------------------- against Keras itself


def export_of(model) -> object:
    """What the parent receives: export_model in this process, through the real protocol."""
    from grader.engine.inside.worker import export_model

    blobs: list[bytes] = []
    encoded = protocol.encode_value(export_model(model, MAX_PARAMS), blobs)
    return protocol.decode_value(encoded, blobs)


def test_every_supported_layer_agrees_with_keras():
    keras = pytest.importorskip("keras")
    layers = keras.layers
    inputs = keras.Input((28, 28))
    x = layers.Rescaling(1 / 255, offset=-0.1)(inputs)
    x = layers.Normalization(mean=0.4, variance=0.09)(x)
    x = layers.Reshape((784,))(layers.Flatten()(x))
    x = layers.BatchNormalization()(layers.Dropout(0.3)(layers.Dense(24, activation="gelu")(x)))
    x = layers.Activation("selu")(layers.LayerNormalization()(x))
    x = layers.LeakyReLU()(layers.ReLU(max_value=3.0, negative_slope=0.1, threshold=0.2)(x))
    for activation in ("swish", "softplus", "tanh", "elu", "relu6", "sigmoid", "softsign"):
        x = layers.Dense(16, activation=activation)(x)
    x = layers.Softmax()(layers.Dense(10)(layers.GaussianNoise(0.1)(x)))
    model = keras.Model(inputs, x)
    for layer in model.layers:  # statistics that are not the initial ones
        if isinstance(layer, (layers.BatchNormalization, layers.LayerNormalization)):
            layer.set_weights([RNG.normal(1, 0.3, w.shape).astype("float32") ** 2 for w in layer.get_weights()])
    mlp = rebuild(export_of(model))
    theirs = np.asarray(model.predict(IMAGES, verbose=0))
    np.testing.assert_allclose(mlp.forward(IMAGES), theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_the_reference_model_scores_the_same_by_numpy_and_by_keras():
    """Accuracy of the trained reference on the 10,000 test images: numpy and Keras within 0.1 %."""
    keras = pytest.importorskip("keras")
    from helpers import SOLUTIONS

    from grader.course.mnist import load_mnist

    import importlib.util
    spec = importlib.util.spec_from_file_location("ex08_reference_for_mlp", SOLUTIONS / "ex08_mnist_mlp.py")
    assert spec is not None and spec.loader is not None
    solution = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solution)
    x, y = load_mnist("train")
    x_test, y_test = load_mnist("test")
    keras.utils.set_random_seed(0)
    model = solution.build_model()
    solution.train(model, x, y, solution.EPOCHS, solution.BATCH_SIZE)
    by_keras = float(np.mean(np.argmax(model.predict(x_test, batch_size=1000, verbose=0), axis=1) == y_test))
    mlp = rebuild(export_of(model))
    start = time.perf_counter()
    by_numpy = accuracy(mlp, x_test, y_test)
    seconds = time.perf_counter() - start
    print(f"reference on 10,000 test images: keras {by_keras:.4%}, numpy {by_numpy:.4%}, "
          f"numpy forward pass {seconds:.2f} s")
    assert by_keras >= 0.98
    assert abs(by_numpy - by_keras) < 0.001
