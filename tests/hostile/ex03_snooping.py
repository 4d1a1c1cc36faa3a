"""Hostile ex03: reading what a learner must not see.

sigmoid looks for the solutions (and would use them); tanh for the hidden checks and
the MNIST test labels; relu for another learner's file, other children's scratch
directories and the instructor's secrets in the environment. Each one answers
correctly only if it found something, so a leak shows up as points; otherwise it
reports what it tried. softmax is honest.
"""

from __future__ import annotations

import glob
import os
import runpy
from pathlib import Path

import tensorflow as tf

import grader

PACKAGE = Path(grader.__file__).resolve().parent
ROOTS = [Path("@@PROJECT_ROOT@@"), PACKAGE.parent, Path.cwd(), Path.cwd().parent, Path("/work/main")]


def _readable(paths):
    found = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                handle.read(16)
            found.append(str(path))
        except OSError:
            pass
    return found


def _honest_softmax(x):
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    return tf.exp(shifted) / tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True)


def sigmoid(x):
    tried = [root / "solutions" / "ex03_activations.py" for root in ROOTS]
    for path in _readable(tried):
        return runpy.run_path(path)["sigmoid"](x)
    raise FileNotFoundError(f"no solutions found in {len(tried)} places")


def tanh(x):
    hidden = [p for root in (*ROOTS, PACKAGE.parent) for p in glob.glob(f"{root}/grader/checks/hidden/*.py")]
    hidden += glob.glob(f"{PACKAGE}/checks/hidden/*.py")
    mnist = [Path(d) / "t10k-labels-idx1-ubyte.gz" for d in
             (os.environ.get("MNIST_DIR", "/nonexistent"), "@@MNIST_DIR@@",
              Path.home() / ".cache/dl-course-grader/mnist")]
    found = _readable(hidden) + _readable(mnist)
    if found:
        return 2.0 / (1.0 + tf.exp(-2.0 * x)) - 1.0
    raise FileNotFoundError("no hidden checks and no MNIST labels found")


def relu(x):
    found = _readable(["@@OTHER_LEARNER@@"])
    for scratch in glob.glob("/tmp/grader-child-*"):  # other children's working directories
        try:
            if os.path.realpath(scratch) != os.path.realpath(os.getcwd()):
                os.listdir(scratch)
                found.append(scratch)
        except OSError:
            pass
    environments = [f"{key}={value}" for key, value in os.environ.items()]
    for pid in ("1", str(os.getppid()), "self"):
        try:
            environments.append(Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "replace"))
        except OSError:
            pass
    text = "\n".join(environments)
    found += [word for word in ("s3cret", "GRADER_SEED", "MNIST_DIR") if word in text]
    if found:
        return tf.maximum(x, tf.zeros_like(x))
    raise PermissionError("no other learner's file, no scratch directory and no secret found")


def softmax(x):
    return _honest_softmax(x)
