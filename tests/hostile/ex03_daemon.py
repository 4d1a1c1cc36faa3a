"""Hostile ex03: processes that try to outlive the grading.

sigmoid leaves 5 forked children sleeping; softmax starts a double-forked daemon in a
new session (so killing the child's process group misses it) that writes marker files
5 s later. Both answer honestly. Used to test the clean-up on machines without a PID
namespace, where only the cgroup or the child's own uid can find the daemon.
"""

from __future__ import annotations

import ctypes
import os
import time

import tensorflow as tf

MARKER = "@@MARKER@@"


def _rename():
    try:
        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(MARKER.encode()[:15]), 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass


def sigmoid(x):
    for _ in range(5):
        if os.fork() == 0:
            _rename()
            time.sleep(30)
            os._exit(0)
    return 1.0 / (1.0 + tf.exp(-x))


def tanh(x):
    return 2.0 / (1.0 + tf.exp(-2.0 * x)) - 1.0


def relu(x):
    return tf.maximum(x, tf.zeros_like(x))


def softmax(x):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            _rename()
            time.sleep(5)
            for path in (f"@@HOST_DIR@@/{MARKER}-daemon", f"/tmp/{MARKER}-daemon"):
                try:
                    with open(path, "w") as handle:
                        handle.write("still alive")
                except OSError:
                    pass
            time.sleep(20)
        os._exit(0)
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)
