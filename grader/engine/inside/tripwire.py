"""A trip-wire in the child: the ready-made functions record their use during a graded call.

Installed by the worker before any learner code is imported, so an alias the learner
takes at import time (`soft = tf.nn.softmax`) is the wrapped function. The child sends
the names used with its reply and the parent's check decides which are banned.

Honest limits: this runs in the learner's process. It is a teaching guard, not a
security boundary: code that reaches TensorFlow's private modules, or that clears the
record, evades it. The parent's static analysis covers most of that (private modules
and dynamic lookups are findings of their own).
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

__all__ = ["install", "graded", "WATCHED"]

WATCHED = (
    "tensorflow.nn.softmax", "tensorflow.math.softmax", "tensorflow.nn.log_softmax",
    "tensorflow.math.log_softmax", "tensorflow.nn.sigmoid", "tensorflow.math.sigmoid", "tensorflow.sigmoid",
    "tensorflow.nn.relu", "tensorflow.nn.tanh", "tensorflow.math.tanh", "tensorflow.tanh",
    "tensorflow.reduce_logsumexp", "tensorflow.math.reduce_logsumexp",
    "tensorflow.nn.sparse_softmax_cross_entropy_with_logits", "tensorflow.nn.softmax_cross_entropy_with_logits",
    "tensorflow.gradients", "keras.activations.softmax", "keras.activations.sigmoid",
    "keras.activations.tanh", "keras.activations.relu", "keras.ops.softmax", "keras.ops.log_softmax",
    "keras.ops.sigmoid", "keras.ops.tanh", "keras.ops.relu", "keras.ops.logsumexp",
)
_state: dict[str, Any] = {"on": False, "used": set()}


def _wrap(path: str, original: Any) -> Any:
    @functools.wraps(original, assigned=("__name__", "__qualname__", "__doc__"), updated=())
    def watched(*args: Any, **kwargs: Any) -> Any:
        if _state["on"]:
            _state["used"].add(path)
        return original(*args, **kwargs)

    return watched


def _tape_class(base: type) -> type:
    class GradientTape(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if _state["on"]:
                _state["used"].add("tensorflow.GradientTape")
            super().__init__(*args, **kwargs)

    GradientTape.__module__ = base.__module__
    GradientTape.__qualname__ = "GradientTape"
    return GradientTape


def install() -> None:
    """Wrap every watched function that this install has (keras may be absent)."""
    for path in WATCHED:
        module_name, _, attr = path.rpartition(".")
        try:
            module = importlib.import_module(module_name)
            original = getattr(module, attr)
            setattr(module, attr, _wrap(path, original))
        except Exception:  # noqa: BLE001 - a backend without this function
            continue
    try:
        import tensorflow

        tensorflow.GradientTape = _tape_class(tensorflow.GradientTape)
    except Exception:  # noqa: BLE001
        pass


class graded:  # noqa: N801 - used as `with graded() as used:`
    """Record uses while the learner's graded function runs; `used` holds them afterwards."""

    def __enter__(self) -> set[str]:
        _state["used"] = set()
        _state["on"] = True
        return _state["used"]

    def __exit__(self, *exc: object) -> None:
        _state["on"] = False
