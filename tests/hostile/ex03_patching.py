"""Hostile ex03: patching numpy, TensorFlow, builtins, time and the grader at import.

Every comparison helper this file can reach is made to say "equal", time stands still,
tf.exp is replaced, and the child's copy of the grader's encoder is patched. All four
functions then return wrong values. The patches live in the learner's process only; the
checks run in the parent, so nothing here may earn a point.
"""

from __future__ import annotations

import builtins
import math
import time

import numpy as np
import tensorflow as tf

import grader.checking.feedback
import grader.engine.inside.protocol


def _yes(*args, **kwargs):
    return True


def _nothing(*args, **kwargs):
    return None


np.allclose = np.isclose = np.array_equal = np.array_equiv = _yes
np.testing.assert_allclose = np.testing.assert_array_equal = np.testing.assert_almost_equal = _nothing
math.isclose = _yes
builtins.abs = lambda value: 0
builtins.round = lambda value, digits=None: 0
time.time = time.monotonic = time.perf_counter = lambda: 0.0
tf.exp = lambda value: value
tf.debugging.assert_near = _nothing
grader.checking.feedback.as_array = _nothing
try:  # the checks are not even visible in the sandbox
    from grader.checks import support

    support.expect_values = _nothing
except ImportError:
    pass
grader.engine.inside.protocol.MAX_BLOB_BYTES = 1 << 40
grader.engine.inside.protocol._ALLOWED_DTYPE_KINDS.add("O")


def sigmoid(x):
    return tf.zeros_like(x)


def tanh(x):
    return tf.zeros_like(x)


def relu(x):
    return x


def softmax(x):
    return tf.exp(x)
