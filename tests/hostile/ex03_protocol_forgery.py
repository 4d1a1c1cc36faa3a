"""Hostile ex03: writing to the grader's protocol pipe directly.

sigmoid finds the request it is serving (in the worker's stack frame), writes a
well-formed reply with that id and a wrong value ahead of the worker's own reply, then
returns normally; the worker's reply then arrives when tanh is asked, with the wrong
id. relu writes garbage bytes (an absurd frame length). The pipe's number is the second
argument of the child's command line (it can also be found in /proc/self/fd).
"""

from __future__ import annotations

import inspect
import json
import os
import struct
import sys

import tensorflow as tf

OUT_FD = int(sys.argv[2])


def _request_id():
    for frame in inspect.stack():
        request = frame.frame.f_locals.get("request")
        if isinstance(request, dict) and "id" in request:
            return request["id"]
    return 1


def sigmoid(x):
    header = json.dumps({"id": _request_id(), "ok": True, "value": 0.5, "blobs": []}).encode()
    os.write(OUT_FD, struct.pack(">II", len(header), 0) + header)
    return 1.0 / (1.0 + tf.exp(-x))


def tanh(x):
    return 2.0 / (1.0 + tf.exp(-2.0 * x)) - 1.0


def relu(x):
    os.write(OUT_FD, b"\xff\xff\xff\xf0garbage that is not a frame" * 10)
    return tf.maximum(x, tf.zeros_like(x))


def softmax(x):
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)
