"""Messages between the trusted parent and the learner's child: plain data only.

A frame is ``>II`` (header length, total blob length), a UTF-8 JSON header, then
the blobs. Numpy arrays travel as ``.npy`` bytes and are read back with
``allow_pickle=False``; nothing that crosses is ever executed or unpickled.

Tagged values (``{"$": tag, ...}``) carry what plain JSON cannot: tuples, dicts,
arrays, handles to objects that stay in the child, and activation names.
"""

from __future__ import annotations

import io
import json
import os
import select
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ACTIVATION_NAMES",
    "Activation",
    "Handle",
    "ProtocolError",
    "FrameTimeout",
    "ChildGone",
    "encode_value",
    "decode_value",
    "write_frame",
    "FrameReader",
    "MAX_HEADER_BYTES",
    "MAX_BLOB_BYTES",
]

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "softmax", "identity")
MAX_HEADER_BYTES = 4 * 1024 * 1024
MAX_BLOB_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
_PREFIX = struct.Struct(">II")
_ALLOWED_DTYPE_KINDS = set("biufcUS")


class ProtocolError(Exception):
    """The other side sent something that is not a valid message."""


class FrameTimeout(Exception):
    """No complete frame arrived before the deadline."""


class ChildGone(Exception):
    """The pipe closed: the other process exited or crashed."""


@dataclass(frozen=True)
class Activation:
    """An activation function, sent by name and resolved by the child to a trusted one."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in ACTIVATION_NAMES:
            raise ValueError(f"unknown activation {self.name!r}")


@dataclass(frozen=True)
class Handle:
    """A value that stays in the child (a Keras model, a cache); the parent sees a description."""

    id: int
    type: str
    description: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


# ---------------------------------------------------------------- encoding


def _array_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    # np.ascontiguousarray would turn a 0-d array (a scalar tensor) into shape (1,).
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)
    return buffer.getvalue()


def encode_value(
    value: Any,
    blobs: list[bytes],
    fallback: Callable[[Any], Any] | None = None,
    depth: int = 0,
) -> Any:
    """Turn ``value`` into JSON-able data, appending array bytes to ``blobs``.

    ``fallback`` handles anything else (the child turns it into a handle); without
    one, an unsupported value raises ``TypeError``.
    """
    if depth > MAX_DEPTH:
        raise TypeError("value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and type(value) is int:
        return value
    if type(value) is float:
        return value
    if isinstance(value, Activation):
        return {"$": "activation", "name": value.name}
    if isinstance(value, Handle):
        return {"$": "handle", "id": value.id, "type": value.type}
    if type(value) in (list, tuple):
        tag = "list" if type(value) is list else "tuple"
        return {"$": tag, "v": [encode_value(v, blobs, fallback, depth + 1) for v in value]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {
            "$": "dict",
            "v": {k: encode_value(v, blobs, fallback, depth + 1) for k, v in value.items()},
        }
    if type(value) is np.ndarray or isinstance(value, np.generic):
        array = np.asarray(value)
        if array.dtype.kind not in _ALLOWED_DTYPE_KINDS:
            raise TypeError(f"arrays of dtype {array.dtype} cannot be sent")
        blobs.append(_array_bytes(array))
        return {"$": "array", "blob": len(blobs) - 1}
    if fallback is not None:
        return fallback(value)
    raise TypeError(f"a value of type {type(value).__name__} cannot be sent")


def _load_array(data: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # malformed .npy bytes from an untrusted sender
        raise ProtocolError(f"an array could not be read: {exc}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in _ALLOWED_DTYPE_KINDS:
        raise ProtocolError("an array had a dtype that is not allowed")
    return array


def decode_value(
    data: Any,
    blobs: list[bytes],
    resolve: Callable[[dict[str, Any]], Any] | None = None,
    depth: int = 0,
) -> Any:
    """Inverse of :func:`encode_value`; strict about types, raises ``ProtocolError``.

    ``resolve`` turns ``handle`` and ``activation`` tags into objects (child side);
    without it they become :class:`Handle` / :class:`Activation` records.
    """
    if depth > MAX_DEPTH:
        raise ProtocolError("value is nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is not dict or type(data.get("$")) is not str:
        raise ProtocolError(f"unexpected value of type {type(data).__name__}")
    tag = data["$"]
    if tag in ("list", "tuple"):
        items = data.get("v")
        if type(items) is not list:
            raise ProtocolError(f"malformed {tag}")
        decoded = [decode_value(v, blobs, resolve, depth + 1) for v in items]
        return decoded if tag == "list" else tuple(decoded)
    if tag == "dict":
        items = data.get("v")
        if type(items) is not dict:
            raise ProtocolError("malformed dict")
        return {str(k): decode_value(v, blobs, resolve, depth + 1) for k, v in items.items()}
    if tag == "array":
        index = data.get("blob")
        if type(index) is not int or not 0 <= index < len(blobs):
            raise ProtocolError("an array refers to a missing blob")
        return _load_array(blobs[index])
    if tag in ("handle", "activation"):
        if resolve is not None:
            return resolve(data)
        if tag == "activation":
            try:
                return Activation(str(data.get("name")))
            except ValueError as exc:
                raise ProtocolError(str(exc)) from None
        if type(data.get("id")) is not int:
            raise ProtocolError("malformed handle")
        raw = data.get("desc")
        description: dict[str, Any] = raw if type(raw) is dict else {}
        return Handle(data["id"], str(data.get("type", "object"))[:200], description)
    raise ProtocolError(f"unknown value tag {tag!r}")


# ---------------------------------------------------------------- framing


def write_frame(fd: int, header: dict[str, Any], blobs: list[bytes] | None = None,
                deadline: float | None = None) -> None:
    """Write one frame to a file descriptor.

    With a `deadline` (the parent, whose end of the pipe is non-blocking), raise
    FrameTimeout when the reader stops reading (a stopped or hostile child) instead
    of blocking forever on a full pipe.
    """
    blobs = blobs or []
    header = {**header, "blobs": [len(b) for b in blobs]}
    head = json.dumps(header, separators=(",", ":")).encode()
    total = sum(len(b) for b in blobs)
    payload = b"".join([_PREFIX.pack(len(head), total), head, *blobs])
    view = memoryview(payload)
    while view:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FrameTimeout()
            _, ready, _ = select.select([], [fd], [], left)
            if not ready:
                raise FrameTimeout()
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            continue
        view = view[written:]


class FrameReader:
    """Reads frames from a file descriptor with a deadline and size limits."""

    def __init__(
        self,
        fd: int,
        max_header: int = MAX_HEADER_BYTES,
        max_blobs: int = MAX_BLOB_BYTES,
    ) -> None:
        self.fd = fd
        self.max_header = max_header
        self.max_blobs = max_blobs

    def _read_exactly(self, count: int, deadline: float | None) -> bytes:
        chunks: list[bytes] = []
        remaining = count
        while remaining:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise FrameTimeout()
                ready, _, _ = select.select([self.fd], [], [], left)
                if not ready:
                    raise FrameTimeout()
            chunk = os.read(self.fd, min(remaining, 1 << 20))
            if not chunk:
                raise ChildGone()
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def read_frame(self, deadline: float | None = None) -> tuple[dict[str, Any], list[bytes]]:
        """Return (header, blobs). Raises FrameTimeout, ChildGone or ProtocolError."""
        head_len, blob_len = _PREFIX.unpack(self._read_exactly(_PREFIX.size, deadline))
        if head_len > self.max_header:
            raise ProtocolError(f"a message header of {head_len} bytes is too large")
        if blob_len > self.max_blobs:
            raise ProtocolError(
                f"a result of {blob_len / 2**20:.0f} MiB is larger than the "
                f"{self.max_blobs / 2**20:.0f} MiB limit"
            )
        try:
            header = json.loads(self._read_exactly(head_len, deadline).decode())
        except (ValueError, RecursionError):  # bad UTF-8 or JSON, or a 5000-digit integer
            raise ProtocolError("a message header is not valid JSON") from None
        if type(header) is not dict:
            raise ProtocolError("a message header is not an object")
        sizes = header.get("blobs", [])
        if type(sizes) is not list or any(type(s) is not int or s < 0 for s in sizes):
            raise ProtocolError("a message lists invalid blob sizes")
        if sum(sizes) != blob_len:
            raise ProtocolError("a message's blob sizes do not add up")
        data = self._read_exactly(blob_len, deadline)
        blobs, offset = [], 0
        for size in sizes:
            blobs.append(data[offset : offset + size])
            offset += size
        return header, blobs
