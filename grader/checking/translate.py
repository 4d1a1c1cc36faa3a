"""TensorFlow's and Keras's error messages, raised inside learner code, in the learner's terms.

``explain(exc)`` reads a learner exception (type name, message, the learner's own traceback
lines) and says what went wrong with the shapes, axes or labels on the learner's line:

    Matrix size-incompatible: In[0]: [6,4], In[1]: [5,4]
      -> dS = tf.matmul(dL2, params["W2"]) multiplies (6, 4) @ (5, 4): the inner lengths 4 and 5
         must be equal; dS must have shape (6, 5): transpose the second: transpose_b=True

A check that knows what each of the learner's names should be (ex06's gradients) passes
``shapes``, name -> (expected shape, what it belongs to); it is then named. The result is
None when the message is not one we can put in better words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["explain", "Shapes"]

#: A learner variable name -> (the shape it must have, what that shape is the shape of).
Shapes = Mapping[str, tuple[tuple[int, ...], str]]

_MATMUL = re.compile(r"Matrix size-incompatible: In\[0\]: \[([\d,]*)\], In\[1\]: \[([\d,]*)\]")
_ELEMENTWISE = re.compile(r"Incompatible shapes: \[([\d,]*)\] vs\. \[([\d,]*)\]")
_RESHAPE = re.compile(r"Input to reshape is a tensor with (\d+) values, but the requested shape "
                      r"(?:has|requires a multiple of) (\d+)")
_KERAS_TARGET = re.compile(r"target\.shape=\(([^)]*)\),\s*output\.shape=\(([^)]*)\)")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(?!=)\s*(.+?)\s*$")


def _shape(text: str) -> tuple[int | None, ...]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return tuple(None if p == "None" else int(p) for p in parts)


_FRAME = re.compile(r'File "[^"]*", line \d+, in [^:\n]*: (.+)$')


def _learner_line(traceback: list[str]) -> str:
    """The learner's code line where the error was raised (the last frame's source line)."""
    for frame in reversed(traceback):
        if found := _FRAME.search(str(frame).strip()):
            return found.group(1).strip()
        lines = [line for line in str(frame).splitlines() if line.strip()]
        if len(lines) >= 2 and lines[0].lstrip().startswith("File"):
            return lines[1].strip()
        if lines and not lines[-1].lstrip().startswith("File"):
            return lines[-1].strip()
    return ""


def _product(a: tuple[int | None, ...], b: tuple[int | None, ...],
             target: tuple[int, ...] | None) -> str:
    """Which operand to transpose so that a @ b has `target`'s shape (2-D operands only)."""
    if len(a) != 2 or len(b) != 2:
        return ""
    options = (("the first: transpose_a=True", (a[1], a[0]), b), ("the second: transpose_b=True", a, (b[1], b[0])),
               ("both: transpose_a=True, transpose_b=True", (a[1], a[0]), (b[1], b[0])))
    for words, left, right in options:
        if left[1] == right[0] and (target is None or (left[0], right[1]) == target):
            return f"transpose {words}, which gives {(left[0], right[1])}"
    return ""


def _names_on(line: str, shapes: Shapes) -> list[str]:
    return [name for name in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", line)) if name in shapes]


def _target(line: str, shapes: Shapes) -> tuple[str, tuple[int, ...] | None, str]:
    """The name assigned on `line`, and what it must be, in words (empty when unknown)."""
    match = _ASSIGNMENT.match(line)
    name = match.group(1) if match else ""
    if name in shapes:
        shape, of = shapes[name]
        return name, shape, f"{name} must have shape {shape}, the shape of {of}"
    return name, None, ""


def _matmul(a: tuple[int | None, ...], b: tuple[int | None, ...], line: str, shapes: Shapes) -> str:
    name, target, must = _target(line, shapes)
    head = f"`{line}` multiplies" if line else "tf.matmul got"
    text = (f"{head} shapes {a} @ {b}: a matrix product needs the inner lengths to be equal, "
            f"and here they are {a[-1] if a else '?'} and {b[0] if b else '?'}")
    fix = _product(a, b, target)
    return "; ".join(filter(None, [text, must, fix or "check which operand needs a transpose"]))


def _elementwise(a: tuple[int | None, ...], b: tuple[int | None, ...], line: str, shapes: Shapes) -> str:
    name, target, must = _target(line, shapes)
    head = f"`{line}` combines" if line else "an entry-by-entry operation (+, -, *, /) got"
    text = (f"{head} shapes {a} and {b} entry by entry (+, -, *, /), and they cannot be lined up: "
            "both must have the same shape (or one of them a length-1 axis)")
    known = [f"{n} {shapes[n][0]}" for n in _names_on(line, shapes) if n != name]
    parts = [text, must]
    if known:
        parts.append("on this line these must be: " + ", ".join(known)
                     + "; the one with the other shape was computed wrong earlier")
    return "; ".join(filter(None, parts))


def _reshape(have: int, want: int, line: str, shapes: Shapes) -> str:
    name, target, must = _target(line, shapes)
    text = (f"`{line}` asks tf.reshape" if line else "tf.reshape was asked") + \
        f" to put {have} values into a shape that holds {want}: reshape never adds values up"
    sources = [n for n in _names_on(line.split("=", 1)[-1], shapes) if n != name]
    axis = ""
    for source in sources:
        shape = shapes[source][0]
        for i in range(len(shape)):
            if target is not None and shape[:i] + shape[i + 1:] == target:
                rows = " (the rows)" if i == 0 else ""
                axis = (f"{source} {shape} becomes {target} by adding up axis {i}{rows}: "
                        f"use tf.reduce_sum({source}, axis={i}) instead of tf.reshape")
                break
        if axis:
            break
    if not axis and have > want:
        axis = "to go from more values to fewer, add them up over an axis with tf.reduce_sum(..., axis=...)"
    return "; ".join(filter(None, [text, must, axis]))


def _keras_labels(target: tuple[int | None, ...], output: tuple[int | None, ...]) -> str:
    if len(output) >= 2 and (len(target) < len(output) or target[-1] == 1) and output[-1] != 1:
        return (f"your labels have shape {target} (one class number per image) but the loss expects "
                f"one-hot rows like the model's output {output}: categorical_crossentropy is for "
                "one-hot labels. With integer labels 0-9 use "
                "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=...) "
                "(or the string 'sparse_categorical_crossentropy')")
    if len(target) == len(output) and len(output) >= 2 and target[-1] == output[-1]:
        return (f"your labels are one-hot rows {target}, but a sparse loss expects one class number "
                "per image: with one-hot labels use categorical_crossentropy, or keep the integer "
                "labels with SparseCategoricalCrossentropy")
    return (f"the labels' shape {target} does not fit the model's output {output}: integer labels "
            "0-9 go with SparseCategoricalCrossentropy, one-hot rows with CategoricalCrossentropy, "
            "and the last Dense layer needs 10 units")


def explain(exc: Any, shapes: Shapes | None = None) -> str | None:
    """What a learner's TensorFlow/Keras error means in their terms, or None if we can't say more."""
    message = str(getattr(exc, "message", "") or "")
    line = _learner_line(list(getattr(exc, "traceback", None) or []))
    shapes = shapes or {}
    if found := _MATMUL.search(message):
        return _matmul(_shape(found.group(1)), _shape(found.group(2)), line, shapes)
    if found := _ELEMENTWISE.search(message):
        return _elementwise(_shape(found.group(1)), _shape(found.group(2)), line, shapes)
    if found := _RESHAPE.search(message):
        return _reshape(int(found.group(1)), int(found.group(2)), line, shapes)
    if (found := _KERAS_TARGET.search(message)) and ("rank" in message or "shape" in message):
        return _keras_labels(_shape(found.group(1)), _shape(found.group(2)))
    if "Received a label value of" in message and "valid range" in message:
        return ("a label is outside 0 .. (number of outputs - 1): the last Dense layer needs one "
                "unit per class (10 for MNIST)")
    return None
