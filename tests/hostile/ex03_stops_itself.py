"""Answers honestly, then stops itself (SIGSTOP) from a thread a moment later.

The child then no longer reads its requests. A request larger than the pipe's buffer
(a big hidden input) used to block the parent's write forever, with no timeout, in
`grader check` and `grader grade` alike. The parent's writes now keep the call's
deadline (`grader/engine/inside/protocol.py: write_frame`): the call times out and the child is killed.
Bounded: one stop, nothing else runs.
"""

import os
import signal
import threading
import time

import tensorflow as tf


def sigmoid(x):
    def stop() -> None:
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGSTOP)

    threading.Thread(target=stop, daemon=True).start()
    return 1.0 / (1.0 + tf.exp(-x))


def tanh(x):
    return tf.tanh(x)
