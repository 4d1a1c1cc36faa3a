"""The one conversion of arguments and results around a learner's function.

The child (``worker.py``) and the fixture builder (``instructor/fixtures.py``) both call
a function the way a check's ``sub.exNN.f(x)`` does: numpy arrays in become tensors of
the same dtype, tensors out become numpy arrays (strings as ``str``). Sharing this module
keeps the public fixtures in step with what the child really does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.engine.inside.protocol import MAX_DEPTH

__all__ = ["to_arguments", "to_plain", "call_like_the_child"]


def to_arguments(value: Any, tf: Any) -> Any:
    """Numpy arrays as tensors of the same dtype (when `tf` is given), through lists, tuples and dicts."""
    if isinstance(value, np.ndarray) and tf is not None:
        return tf.constant(value)
    if isinstance(value, list):
        return [to_arguments(v, tf) for v in value]
    if isinstance(value, tuple):
        return tuple(to_arguments(v, tf) for v in value)
    if isinstance(value, dict):
        return {k: to_arguments(v, tf) for k, v in value.items()}
    return value


def to_plain(value: Any, tf: Any, depth: int = 0) -> Any:
    """Framework tensors as numpy arrays before encoding (as deep as the protocol goes)."""
    if depth > MAX_DEPTH:
        return value  # encode_value refuses it with "nested too deeply"
    if tf is not None and isinstance(value, (tf.Tensor, tf.Variable)):
        array = value.numpy()
        if value.dtype == tf.string:
            array = np.vectorize(lambda b: b.decode("utf-8", "replace"), otypes=[str])(array)
        return array
    if type(value) is not np.ndarray and hasattr(value, "__array__") and hasattr(value, "shape"):
        try:
            return np.asarray(value)
        except Exception:
            return value
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        return np.asarray(value).view(np.ndarray)
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(to_plain(v, tf, depth + 1) for v in value)
    if type(value) is dict:
        return {k: to_plain(v, tf, depth + 1) for k, v in value.items()}
    return value


def call_like_the_child(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`function(*args, **kwargs)` with the child's conversions on both sides (TensorFlow imported)."""
    import tensorflow as tf

    return to_plain(function(*to_arguments(args, tf), **to_arguments(kwargs, tf)), tf)
