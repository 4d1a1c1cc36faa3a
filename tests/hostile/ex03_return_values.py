"""Hostile ex03: return values the protocol must refuse without running out of memory.

sigmoid returns a 240 MB array (over the 64 MiB limit: the parent refuses the frame
before reading it); tanh returns an object array (refused: it would need pickle);
relu returns a list nested 1000 deep (refused); softmax sleeps (at most 60 s).
"""

from __future__ import annotations

import time

import numpy as np


class Payload:
    def __reduce__(self):
        return (print, ("unpickled!",))


def sigmoid(x):
    return np.zeros(30_000_000)


def tanh(x):
    return np.array([Payload(), Payload()], dtype=object)


def relu(x):
    nested = []
    for _ in range(1000):
        nested = [nested]
    return nested


def softmax(x):
    time.sleep(60)
    return x
