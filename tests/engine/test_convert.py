"""engine/inside/convert.py: the one conversion the child and the fixture builder share."""

from __future__ import annotations

import numpy as np
import pytest

from grader.engine.inside.convert import call_like_the_child, to_arguments, to_plain
from grader.engine.inside.protocol import MAX_DEPTH

tf = pytest.importorskip("tensorflow")


def test_arrays_become_tensors_of_the_same_dtype_at_any_depth() -> None:
    args = to_arguments(([np.ones(2, np.float32)], {"w": np.zeros((1, 2), np.int32)}, 3), tf)
    assert isinstance(args[0][0], tf.Tensor) and args[0][0].dtype == tf.float32
    assert isinstance(args[1]["w"], tf.Tensor) and args[1]["w"].dtype == tf.int32
    assert args[2] == 3


def test_without_tensorflow_numpy_stays_numpy() -> None:
    array = np.ones(3)
    assert to_arguments([array], None)[0] is array


def test_results_come_back_as_plain_numpy() -> None:
    out = to_plain((tf.constant([1.5]), [tf.constant(["a", "bé"])], {"k": tf.Variable(2)}), tf)
    assert type(out[0]) is np.ndarray and out[0].dtype == np.float32
    assert out[1][0].tolist() == ["a", "bé"] and out[1][0].dtype.kind == "U"
    assert isinstance(out[2]["k"], np.generic) and out[2]["k"] == 2  # a scalar tensor: a numpy scalar


def test_subclasses_are_cut_to_plain_ndarrays_and_depth_is_bounded() -> None:
    class Sneaky(np.ndarray):
        def __eq__(self, other):  # type: ignore[override]
            return True

    plain = to_plain(np.zeros(2).view(Sneaky), tf)
    assert type(plain) is np.ndarray
    deep: list = [tf.constant(1)]
    for _ in range(MAX_DEPTH + 3):
        deep = [deep]
    inner = to_plain(deep, tf)
    while isinstance(inner, list):
        inner = inner[0]
    assert isinstance(inner, tf.Tensor), "past the protocol's depth nothing is converted (encode refuses it)"
    assert type(to_plain([[tf.constant([1])]], tf)[0][0]) is np.ndarray


def test_call_like_the_child_gives_what_a_check_receives() -> None:
    def softmax(x: object, axis: int = -1) -> object:
        assert isinstance(x, tf.Tensor) and axis == 0
        return tf.nn.softmax(x, axis=axis)

    out = call_like_the_child(softmax, np.array([[0.0], [0.0]], np.float32), axis=0)
    assert type(out) is np.ndarray and out.tolist() == [[0.5], [0.5]]
