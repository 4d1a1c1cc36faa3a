"""Run through a warm zygote: tries to break, or talk to, the learners forked after it.

- pre-creates the scratch folders of the next learners (`/home/learner/learner-N`), which
  made the next child die at start ("exited with status 70");
- leaves a file in the shared working directory `/home/learner` (to fill its tmpfs);
- leaves System V shared memory (64 MiB, mode 0666) and a message queue, which outlive
  their creator in the zygote's IPC namespace (memory kept, a channel between learners).

Defences: the zygote keeps `/home/learner` 0755 (only learners' own scratch is
writable), and removes the uid's System V IPC objects after each learner.
Bounded: 50 folders, 1 MiB of file, 64 MiB of shared memory.
"""

import ctypes
import os

import tensorflow as tf


def relu(x):
    done = []
    for n in range(1, 51):
        try:
            os.mkdir(f"/home/learner/learner-{n}", 0o777)
            done.append(n)
        except OSError:
            pass
    try:
        with open("/home/learner/@@MARKER@@", "wb") as junk:
            junk.write(b"x" * (1 << 20))
    except OSError:
        pass
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    segment = libc.shmget(0x5EED, 64 << 20, 0o1666)  # IPC_CREAT | 0666
    if segment >= 0:
        address = libc.shmat(segment, None, 0)
        if address not in (None, ctypes.c_void_p(-1).value):
            ctypes.memset(address, 7, 64 << 20)
    libc.msgget(0x5EEE, 0o1666)
    return tf.maximum(x, 0.0)
