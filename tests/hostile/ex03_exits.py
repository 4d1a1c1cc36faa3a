"""Hostile ex03: leaving the program from inside a function.

sigmoid calls sys.exit(0) (an exception: reported, the program lives on); tanh calls
os._exit(0) (the program is gone: reported, and a fresh one takes over); relu calls
os._exit(0) too, which is the second crash of this exercise: the rest is skipped.
"""

from __future__ import annotations

import os
import sys

import tensorflow as tf


def sigmoid(x):
    sys.exit(0)


def tanh(x):
    os._exit(0)


def relu(x):
    os._exit(0)


def softmax(x):
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)
