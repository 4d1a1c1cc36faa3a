"""ex08's full training run: its settings, its result, and why it missed the goal.

The run itself (public/test_ex08_mnist_mlp.py `full_run`) trains the learner's own model in
the child on all 60,000 training images, with the EPOCHS and BATCH_SIZE their file declares
(read here with ast, never run), and scores it on the test images in this process.
When the accuracy misses the goal, `reasons` names the likely causes in the learner's
terms, read from the rebuilt layers and from the compile settings the child reports. Those settings
are untrusted, so they only ever choose the words of the feedback, never a score.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from grader.checks.support import Mlp

__all__ = ["GOAL_ACCURACY", "TRAIN_TIMEOUT_S", "CONFIG_TIMEOUT_S", "FullRun", "learner_constant",
           "training_settings", "loss_mismatch", "reasons"]

GOAL_ACCURACY = 0.98
DEFAULT_EPOCHS, DEFAULT_BATCH_SIZE = 10, 128
EPOCH_RANGE, BATCH_SIZE_RANGE = (1, 10), (32, 2048)
TRAIN_TIMEOUT_S = 120.0
CONFIG_TIMEOUT_S = 30.0
#: Below this many epochs, too few passes over the data is named first.
FEW_EPOCHS = 3
_SCALING = {"rescaling", "normalization", "batchnorm", "layernorm"}


@dataclass(frozen=True)
class FullRun:
    """One learner's full training: test accuracy (ours), the settings used, and what we saw."""

    accuracy: float
    epochs: int
    batch_size: int
    seconds: float
    reasons: tuple[str, ...]

    def settings(self) -> str:
        return (f"train(model, x, y, epochs={self.epochs}, batch_size={self.batch_size}) on the 60,000 "
                f"training images ({self.seconds:.0f} s)")


def learner_constant(source: str, name: str, default: int, low: int, high: int) -> int:
    """A top-level `NAME = <int>` of the learner's file, read with ast (never run), clamped."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return default
    value: Any = default
    for node in tree.body:
        target, expression = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, expression = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, expression = node.target, node.value
        if isinstance(target, ast.Name) and target.id == name and expression is not None:
            try:
                value = ast.literal_eval(expression)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                value = default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return default
    return int(min(max(round(value), low), high))


def training_settings(source: str) -> tuple[int, int]:
    """(EPOCHS, BATCH_SIZE) of the learner's file; 10 and 128 when absent, clamped to 1..10, 32..2048."""
    epochs = learner_constant(source, "EPOCHS", DEFAULT_EPOCHS, *EPOCH_RANGE)
    batch_size = learner_constant(source, "BATCH_SIZE", DEFAULT_BATCH_SIZE, *BATCH_SIZE_RANGE)
    return epochs, batch_size


def _values(config: Any, key: str) -> list[Any]:
    """Every value stored under `key` anywhere in a nested dict/list (plain data)."""
    found: list[Any] = []
    todo = [config]
    while todo and len(found) < 64:
        item = todo.pop()
        if isinstance(item, dict):
            found.extend(v for k, v in item.items() if k == key)
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return found


def _activation(layer: Any) -> str:
    value = layer.config.get("activation")
    return value if isinstance(value, str) else str(_values(value, "class_name")[:1] or "")


_CROSS_ENTROPY = {"sparsecategoricalcrossentropy", "categoricalcrossentropy"}


def _softmax_output(mlp: Mlp) -> bool:
    last = [layer for layer in mlp.layers if layer.kind != "identity"][-1:]
    return bool(last) and (last[0].kind == "softmax" or _activation(last[0]) == "softmax")


def loss_mismatch(mlp: Mlp, compile_config: Any) -> str | None:
    """Why the cross-entropy loss does not fit the model's last layer, or None when it does."""
    loss = compile_config.get("loss") if isinstance(compile_config, dict) else None
    names = [loss] if isinstance(loss, str) else _values(loss, "class_name")
    if not any(str(n).replace("_", "").lower() in _CROSS_ENTROPY for n in names):
        return None  # another loss, or none reported: nothing to say
    from_logits = True in _values(loss, "from_logits")
    if _softmax_output(mlp) and from_logits:
        return "softmax_twice"
    if not _softmax_output(mlp) and not from_logits:
        return "logits_as_probabilities"
    return None


def reasons(mlp: Mlp, compile_config: Any, epochs: int) -> tuple[str, ...]:
    """The likely causes of a low accuracy, most telling first, in the learner's terms."""
    found = []
    if loss_mismatch(mlp, compile_config) == "softmax_twice":
        found.append("the last layer already applies a softmax, but the loss has from_logits=True, so "
                     "the loss applies a second softmax to probabilities: drop the softmax from the last "
                     "layer (it should return logits) or set from_logits=False")
    if epochs < FEW_EPOCHS:
        found.append(f"EPOCHS = {epochs}: {epochs} pass{'es' if epochs > 1 else ''} over the 60,000 "
                     "training images is too little; the lesson's recipe passes 98 % during its 4th "
                     "epoch (EPOCHS = 6, BATCH_SIZE = 256)")
    if not _SCALING & set(mlp.kinds()):
        found.append("the model never scales the grey levels 0..255 down to 0..1: start it with "
                     "keras.layers.Rescaling(1 / 255)")
    optimizer = compile_config.get("optimizer") if isinstance(compile_config, dict) else None
    names = _values(optimizer, "class_name") + ([optimizer] if isinstance(optimizer, str) else [])
    if any(str(name).lower() == "sgd" for name in names):
        found.append("plain SGD takes the same small step for every weight and needs many more epochs "
                     "here: use keras.optimizers.Adam (learning rate near 1e-3)")
    return tuple(found)
