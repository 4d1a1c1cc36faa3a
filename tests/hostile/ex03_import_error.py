"""Hostile ex03: an exception at import time (after printing a little)."""

from __future__ import annotations

print("about to fail")
raise RuntimeError("this file refuses to be imported")


def sigmoid(x):
    return x
