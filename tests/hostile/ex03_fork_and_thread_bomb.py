"""Hostile ex03: a fork bomb (sigmoid, at most 200 sleeping children) and a thread bomb
(tanh, at most 500 sleeping threads). Each child renames itself after the marker, so the
test can look for survivors. relu and softmax are honest.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time

import tensorflow as tf

MARKER = b"@@MARKER@@"


def _sleeper():
    try:
        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(MARKER[:15]), 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass
    time.sleep(60)
    os._exit(0)


def sigmoid(x):
    forks = 0
    for _ in range(200):
        try:
            pid = os.fork()
        except OSError as exc:
            raise RuntimeError(f"fork bomb stopped after {forks} forks: {exc}") from None
        if pid == 0:
            _sleeper()
        forks += 1
    return 1.0 / (1.0 + tf.exp(-x))


def tanh(x):
    started = 0
    for _ in range(500):
        try:
            threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        except RuntimeError as exc:
            raise RuntimeError(f"thread bomb stopped after {started} threads: {exc}") from None
        started += 1
    return 2.0 / (1.0 + tf.exp(-2.0 * x)) - 1.0


def relu(x):
    return tf.maximum(x, tf.zeros_like(x))


def softmax(x):
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)
