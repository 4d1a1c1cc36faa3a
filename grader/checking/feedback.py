"""Helpers that checks use to fail with feedback a beginner can act on.

A failure says what was expected, what came back, and what to try, in the
learner's terms (shapes, axes, overflow), e.g.::

    raise CheckFailure("softmax rows must sum to 1", expected="1.0 for every row",
                       got="row 0 sums to 1.73", hint="did you sum over the right axis?")
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from grader.engine.errors import CheckFailure
from grader.engine.inside.protocol import Handle

__all__ = [
    "CheckFailure",
    "show",
    "array_text",
    "as_array",
]


#: Arrays with more entries than this are summarised (first and last values), never printed whole.
SUMMARY_THRESHOLD = 12
#: Strings inside a value (and string array entries) are cut to this many characters first.
STRING_LIMIT = 40


def _cut_strings(array: np.ndarray) -> np.ndarray:
    """A string array with every entry cut to STRING_LIMIT characters (a cheap cast, no repr)."""
    if array.dtype.kind in "US" and array.dtype.itemsize > STRING_LIMIT * (4 if array.dtype.kind == "U" else 1):
        return array.astype(f"{array.dtype.kind}{STRING_LIMIT}")
    return array


def array_text(array: np.ndarray, limit: int = 160) -> str:
    """The values of `array` in at most `limit` characters, whatever its size, rank or dtype.

    The work is bounded before anything is formatted: a large numeric array is summarised by
    numpy's print threshold when it has at most 3 axes, else (and for strings) by its first
    values; string entries are cut first, so a 64 MiB array costs no more than a small one.
    """
    if array.dtype.kind == "O":
        preview = [_render(v, 40) for v in array.flat[:6]]
        text = "[" + ", ".join(preview) + (", ...]" if array.size > 6 else "]")
    elif array.size > SUMMARY_THRESHOLD and (array.ndim > 3 or array.dtype.kind in "US"):
        first = _cut_strings(np.asarray(array.flat[:6]))
        with np.printoptions(precision=4, suppress=True):
            text = np.array2string(first, separator=", ")[:-1] + ", ...]  (first values)"
    else:
        with np.printoptions(precision=4, suppress=True, threshold=SUMMARY_THRESHOLD, edgeitems=2):
            text = np.array2string(_cut_strings(array), separator=", ")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _render(value: Any, limit: int) -> str:
    """`value` in at most `limit` characters; containers and strings are cut before repr."""
    if isinstance(value, Handle):
        return f"a {value.type} object"
    if isinstance(value, np.ndarray):
        return array_text(value, limit)
    if isinstance(value, (str, bytes)):
        text = repr(value[: max(limit, STRING_LIMIT)])
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        text = f"an int with about {int(value.bit_length() * 0.30103) + 1} digits"
    elif isinstance(value, (list, tuple, set, frozenset, dict)):
        text = _container(value, limit)
    else:
        plain = isinstance(value, (bool, int, float, complex, type(None), np.generic, enum.Enum))
        text = repr(value) if plain else f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _container(value: Any, limit: int) -> str:
    """A list, tuple, set or dict rendered item by item until `limit` is reached."""
    brackets: dict[type, tuple[str, str]] = {list: ("[", "]"), tuple: ("(", ")"), dict: ("{", "}")}
    opening, closing = brackets.get(type(value), ("{", "}"))
    items = iter(value.items()) if isinstance(value, dict) else iter(value)
    parts: list[str] = []
    used = 2
    for item in items:
        if used > limit:
            break
        if isinstance(value, dict):
            text = f"{_render(item[0], limit - used)}: {_render(item[1], limit - used)}"
        else:
            text = _render(item, limit - used)
        parts.append(text)
        used += len(text) + 2
    more = len(value) - len(parts)
    body = ", ".join(parts) + (f", ... ({len(value)} items)" if more > 0 else "")
    if isinstance(value, tuple) and len(value) == 1:
        body += ","
    return f"{opening}{body}{closing}"


def show(value: Any, limit: int = 160) -> str:
    """A short, readable rendering of a value for feedback, in bounded time and memory."""
    if isinstance(value, np.ndarray) and value.ndim:
        dtype = "string" if value.dtype.kind in "USO" else str(value.dtype)
        return f"{array_text(value, limit)} (shape {tuple(value.shape)}, {dtype})"
    if isinstance(value, (list, tuple)) and any(isinstance(v, (np.ndarray, Handle)) for v in value[:64]):
        kind = type(value).__name__
        parts = [f"shape {tuple(v.shape)}" if isinstance(v, np.ndarray) else show(v, 40) for v in value[:8]]
        text = f"a {kind} of {len(value)} items: " + ", ".join(parts) + (", ..." if len(value) > 8 else "")
        return text if len(text) <= limit else text[: limit - 3] + "..."
    return _render(value, limit)


def as_array(value: Any, what: str) -> np.ndarray:
    """The learner's value as a numeric numpy array, or a failure saying what came back."""
    if isinstance(value, (list, tuple)) and not value:
        raise CheckFailure(f"{what} returned an empty {type(value).__name__}", expected="a tensor")
    if isinstance(value, Handle) or value is None or isinstance(value, (str, dict)):
        raise CheckFailure(
            f"{what} must return a tensor",
            expected="a tf.Tensor or numpy array",
            got=show(value),
            hint="did you forget a `return`?" if value is None else None,
        )
    try:
        array = np.asarray(value, dtype=float) if not isinstance(value, np.ndarray) else value
    except (TypeError, ValueError):
        raise CheckFailure(f"{what} must return numbers", expected="a tensor of numbers", got=show(value)) from None
    if array.dtype.kind not in "biuf":
        raise CheckFailure(f"{what} must return numbers", expected="a tensor of numbers", got=show(array))
    return array

