"""The trip-wire at the TensorFlow op level: which ready-made ops a graded function's trace holds.

After a graded call of a function whose lesson forbids a ready-made op (ex03's
activations, ex05's softmax family), the child traces the same function on the same
input with ``tf.function(...).get_concrete_function`` (no op runs) and looks for the
ready-made op types in the graph, nested functions included. ``tf.raw_ops.Softmax``,
``keras.activations.softmax`` or a private module all end in the same ``Softmax`` op,
while a softmax built from ``exp`` and ``reduce_sum`` has none.

Each use is reported as ``tensorflow.raw_ops.<Op>`` through the trip-wire's record;
the parent's check decides whether it is banned and names the ready-made function.

Honest limits: tracing runs learner code in the learner's process, so code that
behaves differently while traced (``tf.executing_eagerly()``), or that cannot be
traced at all (numpy, ``.numpy()``, Python branches on values), gives no finding;
a function that cannot be traced is never punished, and neither is a slow one (a call
over ``MAX_CALL_S`` is not traced, so that the trace cannot push it over its timeout).
Traces are cached per function object and input signature, so repeated checks pay once.
"""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Any

__all__ = ["READY_MADE", "WATCHED_OPS", "MAX_CALL_S", "MAX_TRACED_VALUES", "ops_used", "watched_ops", "worth_tracing"]

#: A graded call slower than this is not traced (a trace costs about as much again, and must
#: never push an honest but slow function over its timeout).
MAX_CALL_S = 1.0
MAX_TRACED_VALUES = 1_000_000

READY_MADE = frozenset({"Softmax", "LogSoftmax", "SoftmaxCrossEntropyWithLogits",
                        "SparseSoftmaxCrossEntropyWithLogits"})
_ACTIVATIONS = READY_MADE | {"Sigmoid", "Tanh", "Relu", "Relu6", "Elu", "Selu", "Softplus", "Softsign",
                             "LeakyRelu"}
#: Module prefix (the exercise) -> graded function -> the ready-made op types to look for.
WATCHED_OPS: dict[str, dict[str, frozenset[str]]] = {
    "ex03": {name: _ACTIVATIONS for name in ("sigmoid", "tanh", "relu", "softmax")},
    "ex05": {name: READY_MADE for name in ("logsumexp", "stable_softmax", "log_softmax", "cross_entropy")},
}
_CACHE: dict[tuple[Any, ...], frozenset[str]] = {}
_KEEP: list[Any] = []  # the traced functions stay alive, so an id in the cache is never reused


def watched_ops(module: str, function: str) -> frozenset[str]:
    """The op types to look for when `function` of learner module `module` is graded."""
    return WATCHED_OPS.get(module.split("_", 1)[0], {}).get(function, frozenset())


def worth_tracing(result: Any) -> bool:
    """Trace only a call that gave back a TensorFlow tensor of modest size: ops of a trace made
    what it returns, and a huge or foreign result (numpy, objects) would make the trace itself
    slow (a returned array becomes a constant in the graph) without telling anything."""
    if not type(result).__module__.startswith("tensorflow"):
        return False
    try:
        count = result.shape.num_elements()
    except Exception:  # noqa: BLE001 - an odd object that only looks like a tensor
        return False
    return count is not None and count <= MAX_TRACED_VALUES


def _signature(value: Any) -> Any:
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return ("T", tuple(shape), str(dtype))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_signature(v) for v in value))
    if isinstance(value, dict):
        return ("d", tuple(sorted((str(k), _signature(v)) for k, v in value.items())))
    if isinstance(value, (int, float, bool, str, type(None))):
        return value
    return ("?", id(value))


def _graph_ops(concrete: Any) -> set[str]:
    graph_def = concrete.graph.as_graph_def()
    ops = {node.op for node in graph_def.node}
    for function in graph_def.library.function:  # tf.function, while and cond bodies inside
        ops.update(node.op for node in function.node_def)
    return ops


def ops_used(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any], watch: frozenset[str]) -> set[str]:
    """The watched op types in the trace of ``function(*args, **kwargs)``; empty when it can't be traced."""
    if not watch or "tensorflow" not in sys.modules:
        return set()
    try:
        key = (id(function), _signature(args), _signature(kwargs), watch)
    except Exception:  # noqa: BLE001 - odd arguments: no trace, no finding
        return set()
    if key not in _CACHE:
        import tensorflow as tf

        found: frozenset[str] = frozenset()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                concrete = tf.function(function, autograph=False).get_concrete_function(*args, **kwargs)
                found = frozenset(_graph_ops(concrete) & watch)
        except BaseException:  # noqa: BLE001 - untraceable (numpy, Python branches): never punished
            found = frozenset()
        _KEEP.append(function)
        _CACHE[key] = found
    return set(_CACHE[key])
