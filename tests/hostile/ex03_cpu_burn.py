"""Hostile ex03: sigmoid burns CPU on four threads (bounded to 60 s of wall time).

Stopped by RLIMIT_CPU (SIGXCPU) when the CPU budget is smaller than the call's time
budget. tanh, relu and softmax are honest.
"""

from __future__ import annotations

import hashlib
import threading
import time

import tensorflow as tf


def _burn(stop):
    block = b"x" * (1 << 20)
    while time.monotonic() < stop:
        hashlib.sha256(block).digest()


def sigmoid(x):
    stop = time.monotonic() + 60
    workers = [threading.Thread(target=_burn, args=(stop,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return 1.0 / (1.0 + tf.exp(-x))


def tanh(x):
    return 2.0 / (1.0 + tf.exp(-2.0 * x)) - 1.0


def relu(x):
    return tf.maximum(x, tf.zeros_like(x))


def softmax(x):
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)
