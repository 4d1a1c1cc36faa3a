"""Trusted activation functions, resolved in the child from names sent by the parent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["resolve_activation"]


def resolve_activation(name: str) -> Callable[[Any], Any]:
    """Return a trusted implementation of one of the course's activation names."""
    try:
        import tensorflow as tf
    except ImportError:  # the JAX backend: keras.ops works on any backend
        from keras import ops

        table: dict[str, Callable[[Any], Any]] = {
            "sigmoid": ops.sigmoid,
            "tanh": ops.tanh,
            "relu": ops.relu,
            "softmax": lambda x: ops.softmax(x, axis=-1),
            "identity": lambda x: x,
        }
    else:
        table = {
            "sigmoid": tf.math.sigmoid,
            "tanh": tf.math.tanh,
            "relu": tf.nn.relu,
            "softmax": lambda x: tf.nn.softmax(x, axis=-1),
            "identity": tf.identity,
        }
    return table[name]
