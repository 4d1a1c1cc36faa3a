"""Hostile ex03: values that try to fool a comparison made in the learner's process.

sigmoid returns an object equal to everything; tanh returns NaN; relu returns an
ndarray subclass that lies in __eq__ and __array__; softmax returns an object whose
unpickling would run a command (a pickle bomb). None of them may earn a point: the
parent compares plain numpy arrays it decoded itself and never unpickles anything.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("no array here")

    __hash__ = object.__hash__


class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __array__(self, dtype=None, copy=None):
        return np.full(self.shape, 0.5)


class PickleBomb:
    def __reduce__(self):
        return (os.system, ("touch @@HOST_DIR@@/@@MARKER@@-unpickled",))


def sigmoid(x):
    return AlwaysEqual()


def tanh(x):
    return tf.fill(tf.shape(x), tf.constant(float("nan"), dtype=x.dtype))


def relu(x):
    return np.zeros(x.shape, dtype=x.dtype.as_numpy_dtype).view(Liar)


def softmax(x):
    return PickleBomb()
