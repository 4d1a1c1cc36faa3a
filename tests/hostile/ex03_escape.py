"""Hostile ex03: reaching out of the sandbox.

sigmoid tries to kill the grader (its parent) and PID 1; tanh writes files outside its
working directory and then fills the disk (at most 200 MB); relu tries the network
(TCP to the internet, TCP to a listener on the host's loopback, DNS); softmax starts a
double-forked daemon that, 2 s later, writes marker files outside the sandbox, then
answers honestly. Every function reports what happened in its exception message.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import time

import tensorflow as tf

MARKER = "@@MARKER@@"
HOST_DIR = "@@HOST_DIR@@"
OUTSIDE = (f"{HOST_DIR}/{MARKER}-written", f"/tmp/{MARKER}-written", f"@@PROJECT_ROOT@@/{MARKER}-written",
           f"/{MARKER}-written", f"../{MARKER}-written", f"/home/{MARKER}-written")


def _attempt(action, *args):
    try:
        action(*args)
        return "succeeded"
    except Exception as exc:  # what went wrong is the point of the report
        return f"{type(exc).__name__}: {exc}"


def sigmoid(x):
    report = [f"kill(parent {os.getppid()}): {_attempt(os.kill, os.getppid(), signal.SIGKILL)}"]
    if os.getpid() != 1:
        report.append(f"kill(1): {_attempt(os.kill, 1, signal.SIGKILL)}")
    raise RuntimeError("kill attempts: " + "; ".join(report))


def _write(path):
    with open(path, "w") as handle:
        handle.write("escaped")


def tanh(x):
    report = [f"{path}: {_attempt(_write, path)}" for path in OUTSIDE]
    written, chunk = 0, b"\0" * (10 << 20)
    try:
        while written < 200 << 20:
            with open(f"fill-{written >> 20}", "wb") as handle:
                handle.write(chunk)
            written += len(chunk)
        report.append(f"disk fill: wrote all {written >> 20} MB")
    except OSError as exc:
        report.append(f"disk fill stopped at {written >> 20} MB: {exc}")
    raise RuntimeError("writes: " + "; ".join(report))


def _connect(host, port):
    with socket.create_connection((host, port), timeout=2):
        pass


def relu(x):
    report = [
        f"tcp 1.1.1.1:53: {_attempt(_connect, '1.1.1.1', 53)}",
        f"tcp host loopback: {_attempt(_connect, '127.0.0.1', int('@@PORT@@'))}",
        f"dns: {_attempt(socket.getaddrinfo, 'example.com', 80)}",
    ]
    raise RuntimeError("network: " + "; ".join(report))


def _daemon():
    try:
        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(MARKER.encode()[:15]), 0, 0, 0)
    except Exception:
        pass
    time.sleep(2)
    for path in OUTSIDE:
        _attempt(_write, path)
    time.sleep(20)


def softmax(x):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            _daemon()
        os._exit(0)
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)
