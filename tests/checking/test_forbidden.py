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
        ("import sys\nsys.modules['tensorflow'].nn", "sys.modules.nn"),
        ("import tensorflow as tf\ntf.__dict__['nn']", "__dict__"),
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


def test_star_import_resolves_the_name() -> None:
    assert names("from tensorflow import *\nnn.softmax(x)") == ["tensorflow.nn.softmax"]


def test_module_level_imports_count_only_where_they_are_used() -> None:
    source = "from tensorflow.nn import softmax as s\n\ndef relu(x):\n    return x\n\ndef soft(x):\n    return s(x)\n"
    assert_allowed(source, ACTIVATIONS, "relu")
    with pytest.raises(CheckFailure, match="line 7 uses tf.nn.softmax"):
        assert_allowed(source, ACTIVATIONS, "soft")


def test_dynamic_forms_are_explained() -> None:
    source = "def softmax(x):\n    return __import__('tensorflow').nn.softmax(x)\n"
    with pytest.raises(CheckFailure, match="which the grader can't check"):
        assert_allowed(source, ACTIVATIONS, "softmax")


# ------------------------------------------------ evasion forms (issue 9, finding 3)

SOFTMAX = ["tensorflow.nn", "tensorflow.math.softmax", "keras.activations", "keras.ops.softmax"]
TAPE = ["tensorflow.GradientTape", "tensorflow.gradients", "tensorflow.autodiff"]

EVASIONS = {
    "plain": "def softmax(x):\n    return tf.nn.softmax(x)\n",
    "alias": "nn = tf.nn\ndef softmax(x):\n    return nn.softmax(x)\n",
    "for": "def softmax(x):\n    for lib in [tf]:\n        return lib.nn.softmax(x)\n",
    "with": "import contextlib\ndef softmax(x):\n    with contextlib.nullcontext(tf) as lib:\n"
            "        return lib.nn.softmax(x)\n",
    "comprehension": "def softmax(x):\n    return [lib.nn.softmax(x) for lib in (tf,)][0]\n",
    "walrus": "def softmax(x):\n    return [(f := lib.math) for lib in (tf,)][0].softmax(x)\n",
    "default argument": "def softmax(x, lib=tf):\n    return lib.nn.softmax(x)\n",
    "lambda default": "softmax = lambda x, lib=tf: lib.math.softmax(x)\n",
    "class attribute": "class K:\n    lib = tf\ndef softmax(x):\n    return K.lib.nn.softmax(x)\n",
    "instance attribute": "class K:\n    def __init__(self):\n        self.lib = tf\n"
                          "def softmax(x):\n    return K().lib.nn.softmax(x)\n",
    "return value": "def library():\n    return tf\ndef softmax(x):\n    return library().nn.softmax(x)\n",
    "argument": "def apply(lib, x):\n    return lib.nn.softmax(x)\ndef softmax(x):\n    return apply(tf, x)\n",
    "tuple unpacking": "def softmax(x):\n    a, b = 1, tf\n    return b.nn.softmax(x)\n",
    "global": "LIB = None\ndef _setup():\n    global LIB\n    LIB = tf\n"
              "def softmax(x):\n    return LIB.nn.softmax(x)\n",
    "getattr aliased": "g = getattr\ndef softmax(x):\n    return g(tf, 'n' + 'n').softmax(x)\n",
    "getattr as a value": "def softmax(x):\n    return list(map(getattr, [tf], ['nn']))[0].softmax(x)\n",
    "attrgetter": "import operator\ndef softmax(x):\n    return operator.attrgetter('nn.softmax')(tf)(x)\n",
    "exec": "def softmax(x):\n    scope = {'tf': tf, 'x': x}\n    exec('y = tf.nn.softmax(x)', scope)\n"
            "    return scope['y']\n",
    "eval": "def softmax(x):\n    return eval('tf.nn.softmax')(x)\n",
    "compile": "def softmax(x):\n    code = compile('tf.nn.softmax(x)', 's', 'eval')\n    return eval(code)\n",
    "runpy": "import runpy\ndef softmax(x):\n    return runpy.run_path('helper.py')['softmax'](x)\n",
    "importlib": "import importlib\ndef softmax(x):\n    return importlib.import_module('tensorflow.nn').softmax(x)\n",
    "__import__": "def softmax(x):\n    return __import__('tensorflow').nn.softmax(x)\n",
    "vars": "def softmax(x):\n    return vars(tf)['nn'].softmax(x)\n",
    "globals": "def softmax(x):\n    return globals()['tf'].nn.softmax(x)\n",
    "__dict__": "def softmax(x):\n    return tf.__dict__['nn'].softmax(x)\n",
    "sys.modules": "import sys\ndef softmax(x):\n    return sys.modules['tensorflow'].nn.softmax(x)\n",
    "star import": "from tensorflow import *\ndef softmax(x):\n    return nn.softmax(x)\n",
    "module-level exec": "exec('def softmax(x):\\n    return tf.nn.softmax(x)')\n",
}


@pytest.mark.parametrize("form", sorted(EVASIONS))
def test_each_evasion_form_is_caught(form: str) -> None:
    source = "import tensorflow as tf\n" + EVASIONS[form]
    with pytest.raises(CheckFailure) as info:
        assert_allowed(source, SOFTMAX, "softmax", "build softmax from tf.exp")
    assert "line " in str(info.value)


def test_a_ready_made_softmax_from_another_exercise_file_is_caught() -> None:
    ex04 = "import tensorflow as tf\n\ndef softmax(x):\n    return tf.nn.softmax(x)\n"
    for ex03 in ("from ex04_layers import softmax\n",
                 "from ex04_layers import softmax as s\n\ndef softmax(x):\n    return s(x)\n",
                 "import ex04_layers\n\ndef softmax(x):\n    return ex04_layers.softmax(x)\n",
                 "import ex04_layers as e\n\ndef softmax(x):\n    return e.softmax(x)\n",
                 "from ex04_layers import *\n"):
        sources = {"ex03_activations": ex03, "ex04_layers": ex04}
        with pytest.raises(CheckFailure, match="line 4 of ex04_layers.py uses tf.nn.softmax"):
            assert_allowed(sources, SOFTMAX, "softmax", module="ex03_activations")


def test_other_files_cost_nothing_when_not_reached() -> None:
    ex04 = "import tensorflow as tf\n\ndef dense(x):\n    return tf.nn.softmax(x)\n"
    ex03 = "import tensorflow as tf\nfrom ex04_layers import dense\n\ndef softmax(x):\n" \
           "    e = tf.exp(x)\n    return e / tf.reduce_sum(e, axis=-1, keepdims=True)\n"
    assert_allowed({"ex03_activations": ex03, "ex04_layers": ex04}, SOFTMAX, "softmax")


def test_gradient_tape_through_an_alias_is_caught() -> None:
    source = "import tensorflow as tf\n\ndef backward(params, x, y, lib=tf):\n" \
             "    with lib.GradientTape() as tape:\n        pass\n    return {}\n"
    with pytest.raises(CheckFailure, match="tf.GradientTape"):
        assert_allowed(source, TAPE, ("forward", "backward"))


SELF_CHECKS = '''\
import numpy as np
import tensorflow as tf


def softmax(x):
    e = tf.exp(x - tf.reduce_max(x, axis=-1, keepdims=True))
    return e / tf.reduce_sum(e, axis=-1, keepdims=True)


def _self_test():
    x = tf.constant([[1.0, 2.0]])
    assert np.allclose(softmax(x), tf.nn.softmax(x))
    with tf.GradientTape() as tape:
        pass
    exec("print(1)")


CHECK = tf.nn.softmax(tf.constant([1.0]))

if __name__ == "__main__":
    x = tf.constant([[1.0, 2.0, 3.0]])
    print(softmax(x), tf.nn.softmax(x), getattr(tf, "n" + "n"))
    _self_test()
'''


def test_self_checks_cost_nothing() -> None:
    assert_allowed(SELF_CHECKS, [*SOFTMAX, *TAPE], "softmax", "build softmax from tf.exp")


def test_a_helper_reached_by_the_graded_function_is_caught() -> None:
    source = SELF_CHECKS.replace("    return e / tf", "    _self_test()\n    return e / tf")
    with pytest.raises(CheckFailure, match="line 13 uses tf.nn.softmax"):
        assert_allowed(source, SOFTMAX, "softmax")


@pytest.mark.parametrize("terms", [600, 20000])
def test_deep_expressions_do_not_break_the_scanner(terms: int) -> None:
    source = "import tensorflow as tf\n\ndef softmax(x):\n    n = " + "+".join(["1"] * terms) + "\n" \
             "    e = tf.exp(x)\n    return e / tf.reduce_sum(e, axis=-1, keepdims=True)\n"
    assert_allowed(source, SOFTMAX, "softmax")
    with pytest.raises(CheckFailure, match="tf.nn.softmax"):
        assert_allowed(source.replace("tf.exp(x)", "tf.nn.softmax(x)"), SOFTMAX, "softmax")
