"""Hostile ex03: a recursion bomb (sigmoid), a segfault through ctypes (tanh) and a
recursion through C code deep enough to overflow the C stack (relu). softmax is honest
but comes after the exercise's second crash, so it is skipped.
"""

from __future__ import annotations

import ctypes
import sys

import tensorflow as tf


def sigmoid(x):
    return sigmoid(x)


def tanh(x):
    ctypes.string_at(0)
    return x


def _deeper(depth):
    return list(map(_deeper, [depth + 1])) if depth < 1_000_000 else []


def relu(x):
    sys.setrecursionlimit(1_000_000)
    _deeper(0)
    return x


def softmax(x):
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)
