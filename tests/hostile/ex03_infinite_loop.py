"""Hostile ex03: sigmoid never returns (a busy loop, bounded to 60 s in case every defence fails)."""

from __future__ import annotations

import time

import tensorflow as tf


def sigmoid(x):
    stop = time.monotonic() + 60
    spins = 0
    while time.monotonic() < stop:
        spins += 1
    return 1.0 / (1.0 + tf.exp(-x))


def tanh(x):
    return 2.0 * sigmoid(2.0 * x) - 1.0


def relu(x):
    return tf.maximum(x, tf.zeros_like(x))


def softmax(x):
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)
