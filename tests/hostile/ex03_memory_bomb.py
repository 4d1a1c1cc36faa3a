"""Hostile ex03: two memory bombs, each bounded (10 GiB private, 3 GiB shared).

sigmoid asks numpy for 10 GiB (stopped at once by RLIMIT_DATA: MemoryError); tanh
touches 3 GiB of *shared* anonymous memory, which RLIMIT_DATA does not count (stopped
by the memory cgroup: the kernel kills the child). relu and softmax are honest.
(A 10 GB TensorFlow tensor is stopped by RLIMIT_DATA too, as a ResourceExhaustedError,
but only after TensorFlow's allocator has retried for 10 s: measured, not in the suite.)
"""

from __future__ import annotations

import ctypes
import mmap

import numpy as np
import tensorflow as tf

GiB = 1024**3


def sigmoid(x):
    block = np.ones(10 * GiB // 8)
    return 1.0 / (1.0 + tf.exp(-x)) + float(block[0]) * 0


def tanh(x):
    shared = mmap.mmap(-1, 3 * GiB, flags=mmap.MAP_SHARED)
    view = (ctypes.c_char * (3 * GiB)).from_buffer(shared)
    ctypes.memset(ctypes.addressof(view), 1, 3 * GiB)
    return tf.zeros_like(x)


def relu(x):
    return tf.maximum(x, tf.zeros_like(x))


def softmax(x):
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)
