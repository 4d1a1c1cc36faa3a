"""The message format: round trips, and strictness against malformed input."""

from __future__ import annotations

import io
import json
import os
import struct
import time

import numpy as np
import pytest

from grader.engine.inside import protocol


def roundtrip(value):
    blobs: list[bytes] = []
    data = protocol.encode_value(value, blobs)
    read_fd, write_fd = os.pipe()
    try:
        protocol.write_frame(write_fd, {"value": data}, blobs)
        header, got_blobs = protocol.FrameReader(read_fd).read_frame(deadline=None)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    return protocol.decode_value(header["value"], got_blobs)


def test_plain_values_and_containers_round_trip():
    value = {"a": (1, 2.5, "x", None, True), "b": [np.arange(6, dtype=np.int32).reshape(2, 3)]}
    got = roundtrip(value)
    assert got["a"] == (1, 2.5, "x", None, True)
    assert isinstance(got["a"], tuple)
    np.testing.assert_array_equal(got["b"][0], value["b"][0])
    assert got["b"][0].dtype == np.int32


def test_string_arrays_and_activations_and_handles_cross():
    got = roundtrip((np.array(["t", "e"]), protocol.Activation("relu"), protocol.Handle(3, "Model")))
    assert list(got[0]) == ["t", "e"]
    assert got[1] == protocol.Activation("relu")
    assert got[2].id == 3


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError):
        protocol.Activation("os.system")


def test_objects_that_cannot_cross_are_refused_without_fallback():
    class Sneaky:
        def __eq__(self, other):
            return True

    with pytest.raises(TypeError):
        protocol.encode_value(Sneaky(), [])
    assert protocol.encode_value(Sneaky(), [], fallback=lambda v: "handle") == "handle"


def test_pickled_object_arrays_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_value({"$": "array", "blob": 0}, [buffer.getvalue()])


@pytest.mark.parametrize(
    "data",
    [
        {"$": "nope"},
        {"$": "array", "blob": 5},
        {"no": "tag"},
        {"$": "list", "v": "not a list"},
        {"$": "dict", "v": []},
        {"$": "handle", "id": "1"},
    ],
)
def test_malformed_values_raise_protocol_error(data):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_value(data, [])


def test_deep_nesting_is_refused():
    data: dict = {"$": "list", "v": []}
    for _ in range(100):
        data = {"$": "list", "v": [data]}
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_value(data, [])


def _reader_for(raw: bytes, **limits) -> protocol.FrameReader:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, raw)
    os.close(write_fd)
    return protocol.FrameReader(read_fd, **limits)


def test_garbage_and_truncated_and_oversized_frames():
    with pytest.raises(protocol.ChildGone):
        _reader_for(b"\x00\x00").read_frame(deadline=None)  # truncated prefix
    with pytest.raises(protocol.ProtocolError):
        _reader_for(struct.pack(">II", 5, 0) + b"{{{{{").read_frame(deadline=None)
    with pytest.raises(protocol.ProtocolError):
        _reader_for(struct.pack(">II", 2**31, 0)).read_frame(deadline=None)
    with pytest.raises(protocol.ProtocolError):
        _reader_for(struct.pack(">II", 2, 2**31) + b"{}").read_frame(deadline=None)
    head = json.dumps({"blobs": [3]}).encode()
    with pytest.raises(protocol.ProtocolError):  # sizes that do not add up
        _reader_for(struct.pack(">II", len(head), 5) + head + b"12345").read_frame(deadline=None)


def test_a_silent_sender_times_out():
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(protocol.FrameTimeout):
            protocol.FrameReader(read_fd).read_frame(deadline=0.0)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_header_with_a_huge_integer_is_a_protocol_error():
    """json.loads raises a plain ValueError past 4300 digits: still a ProtocolError."""
    head = b'{"id": ' + b"7" * 5000 + b"}"
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, struct.pack(">II", len(head), 0) + head)
        with pytest.raises(protocol.ProtocolError):
            protocol.FrameReader(read_fd).read_frame(deadline=None)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_write_to_a_reader_that_stopped_reading_times_out():
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    try:
        with pytest.raises(protocol.FrameTimeout):
            protocol.write_frame(write_fd, {"x": 1}, [b"\0" * (1 << 20)], deadline=time.monotonic() + 0.3)
    finally:
        os.close(read_fd)
        os.close(write_fd)
