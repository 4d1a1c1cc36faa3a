"""Forbidden-API detection (pure ast, no TensorFlow): every alias form, and no false alarms."""

from __future__ import annotations

import textwrap

import pytest

from grader.checking.feedback import CheckFailure
from grader.checking.forbidden import Finding, assert_allowed, find_forbidden, is_dynamic

ACTIVATIONS = [
    "tensorflow.nn", "tensorflow.math.sigmoid", "tensorflow.math.tanh", "tensorflow.math.softmax",
    "tensorflow.sigmoid", "tensorflow.tanh", "keras.activations", "keras.ops.softmax",
    "tensorflow.GradientTape", "tensorflow.gradients", "jax.grad",
]


def names(source: str, banned: list[str] = ACTIVATIONS) -> list[str]:
    return [f.name for f in find_forbidden(textwrap.dedent(source), banned)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import tensorflow as tf\ntf.nn.softmax(x)", "tensorflow.nn.softmax"),
        ("from tensorflow import nn as q\nq.softmax(x)", "tensorflow.nn"),
        ("import tensorflow.nn\ntensorflow.nn.relu(x)", "tensorflow.nn"),
        ("from tensorflow.math import sigmoid as s\ns(x)", "tensorflow.math.sigmoid"),
        ("from tensorflow.keras import activations\nactivations.relu(x)", "keras.activations"),
        ("import tensorflow as tf\ntf.keras.activations.relu(x)", "keras.activations.relu"),
        ("from tensorflow import keras\nkeras.ops.softmax(x)", "keras.ops.softmax"),
        ("import keras\nkeras.activations.sigmoid(x)", "keras.activations.sigmoid"),
        ("import tensorflow as tf\nnn = tf.nn\nnn.relu(x)", "tensorflow.nn"),
        ("import tensorflow as tf\nm = tf.math\nm.sigmoid(x)", "tensorflow.math.sigmoid"),
        ("import tensorflow as tf\ntf.math.softmax(x, axis=-1)", "tensorflow.math.softmax"),
        ("import tensorflow as tf\ntf.tanh(x)", "tensorflow.tanh"),
        ("import tensorflow as tf\ntf.compat.v1.nn.softmax(x)", "tensorflow.nn.softmax"),
        ("import tensorflow as tf\nwith tf.GradientTape() as t: pass", "tensorflow.GradientTape"),
        ("from tensorflow import GradientTape\nGradientTape()", "tensorflow.GradientTape"),
        ("import tensorflow as tf\ntf.gradients(y, x)", "tensorflow.gradients"),
        ("import jax\njax.grad(f)", "jax.grad"),
        ("from jax import grad\ngrad(f)", "jax.grad"),
        ("import tensorflow as tf\ngetattr(tf, 'nn').softmax(x)", "tensorflow.nn"),
        ("import tensorflow as tf\ngetattr(tf.math, 'sigmoid')(x)", "tensorflow.math.sigmoid"),
    ],
)
def test_each_alias_form_is_found(source: str, expected: str) -> None:
    found = names(source)
    assert any(name == expected or name.startswith(expected + ".") for name in found), found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import tensorflow as tf\ngetattr(tf, 'n' + 'n').softmax(x)", "getattr"),
        ("tf = __import__('tensorflow')\ntf.exp(x)", "__import__"),
        ("import importlib\nm = importlib.import_module('tensorflow.nn')", "importlib.import_module"),
        ("from importlib import import_module\nimport_module('tensorflow')", "importlib.import_module"),
        ("eval('tf.nn.softmax(x)')", "eval"),
        ("import sys\nsys.modules['tensorflow'].nn", "sys.modules"),
        ("import tensorflow as tf\ntf.__dict__['nn']", "__dict__"),
        ("from tensorflow import *\nnn.softmax(x)", "tensorflow.*"),
    ],
)
def test_dynamic_forms_are_flagged(source: str, expected: str) -> None:
    findings = find_forbidden(source, ACTIVATIONS)
    assert expected in [f.name for f in findings]
    assert all(is_dynamic(f) for f in findings if f.name == expected)


def test_allowed_file_has_no_findings() -> None:
    source = '''
    """tf.nn.softmax is mentioned in a docstring only."""
    from __future__ import annotations
    import numpy as np
    import tensorflow as tf
    from tensorflow import math as tm

    def softmax(x: tf.Tensor) -> tf.Tensor:
        shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
        e = tf.exp(shifted)
        return e / tf.reduce_sum(e, axis=-1, keepdims=True)

    def relu(x):
        return tf.maximum(x, tf.zeros_like(x))

    def dense(x, W, b, activation):
        values = getattr(x, "shape")  # getattr on a tensor, not a module
        return activation(tf.matmul(x, W) + b) + 0 * np.float32(len(values)) + tm.log(1.0)
    '''
    assert find_forbidden(textwrap.dedent(source), ACTIVATIONS) == []


def test_findings_name_the_line_and_function() -> None:
    source = "import tensorflow as tf\n\n\ndef softmax(x):\n    return tf.nn.softmax(x)\n"
    assert find_forbidden(source, ACTIVATIONS) == [Finding(5, "tensorflow.nn.softmax", "softmax")]


def test_parameters_shadow_module_aliases() -> None:
    source = "from tensorflow import math as m\n\ndef f(m):\n    return m.sigmoid\n"
    assert find_forbidden(source, ["tensorflow.math.sigmoid"]) == []


def test_syntax_error_and_empty_banned_give_nothing() -> None:
    assert find_forbidden("def broken(:\n", ACTIVATIONS) == []
    assert find_forbidden("import tensorflow as tf\ntf.nn.relu(1)", []) == []


LEARNER = '''\
import tensorflow as tf


def _helper(x):
    return tf.nn.softmax(x)


def softmax(x):
    return _helper(x)


def relu(x):
    return tf.maximum(x, 0.0)


def sigmoid(x):
    raise NotImplementedError
'''


def test_assert_allowed_only_blames_the_function_and_its_helpers() -> None:
    assert_allowed(LEARNER, ACTIVATIONS, "relu")
    assert_allowed(LEARNER, ACTIVATIONS, "sigmoid")
    with pytest.raises(CheckFailure) as info:
        assert_allowed(LEARNER, ACTIVATIONS, "softmax", "build softmax from tf.exp and tf.reduce_sum")
    message = str(info.value)
    assert "line 5 uses tf.nn.softmax, which is not allowed here" in message
    assert "build softmax from tf.exp and tf.reduce_sum" in message


def test_module_level_imports_count_for_every_function() -> None:
    source = "from tensorflow.nn import softmax as s\n\ndef relu(x):\n    return x\n"
    with pytest.raises(CheckFailure, match="line 1 uses tf.nn.softmax"):
        assert_allowed(source, ACTIVATIONS, "relu")


def test_dynamic_forms_are_explained() -> None:
    source = "def softmax(x):\n    return __import__('tensorflow').nn.softmax(x)\n"
    with pytest.raises(CheckFailure, match="dynamic import/getattr hides what is called"):
        assert_allowed(source, ACTIVATIONS, "softmax")
