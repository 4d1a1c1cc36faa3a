"""Hostile ex03: floods of output, forged protocol frames and forged result files.

sigmoid prints 200 MB (then answers honestly: it earns its points, and the grader's
memory stays bounded); tanh prints bytes that look like a protocol reply and writes
forged result files, then returns a wrong answer; relu prints until it is stopped
(at most 60 s). softmax is honest but is never reached after relu's timeout.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time

import tensorflow as tf

FORGED = {"points": 15.0, "max_points": 15.0, "score": 15.0, "status": "passed"}


def sigmoid(x):
    chunk = b"A" * (1 << 20)
    for _ in range(200):
        os.write(1, chunk)
    sys.stderr.write("E" * 100_000)
    return 1.0 / (1.0 + tf.exp(-x))


def tanh(x):
    header = json.dumps({"id": 1, "ok": True, "value": 1.0, "blobs": []}).encode()
    for _ in range(100):
        sys.stdout.buffer.write(struct.pack(">II", len(header), 0) + header)
    sys.stdout.flush()
    for where in ("results.json", "../results.json", "/tmp/results.json", "@@HOST_DIR@@/results.json",
                  "@@HOST_DIR@@/@@MARKER@@-grades.csv"):
        try:
            with open(where, "w") as handle:
                json.dump(FORGED, handle)
        except OSError:
            pass
    return tf.ones_like(x)


def relu(x):
    stop = time.monotonic() + 60
    while time.monotonic() < stop:
        print("flood " * 1000)
    return tf.maximum(x, tf.zeros_like(x))


def softmax(x):
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)
