"""The hardware baseline for target 6: a hand-written, jitted JAX training loop.

The same MLP as the ex08 reference (sizes given on the command line), Adam,
one `lax.scan` over the batches of an epoch, data resident on the device.
Usage: python benchmarks/jax_mlp_loop.py --sizes 784 256 10 --batch 512 --epochs 8
Prints JSON: steady-state seconds per epoch (median of epochs 2..N) and test accuracy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from grader.course.mnist import load_mnist  # noqa: E402


def init(sizes, key):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        key, sub = jax.random.split(key)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params.append((jax.random.uniform(sub, (fan_in, fan_out), jnp.float32, -limit, limit),
                       jnp.zeros((fan_out,), jnp.float32)))
    return params


def logits_of(params, x):
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def loss_of(params, x, y):
    logits = logits_of(params, x)
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def make_epoch(batch, steps, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
    grad = jax.grad(loss_of)

    def step(state, batch_index):
        params, m, v, t, x_all, y_all = state
        start = batch_index * batch
        x = jax.lax.dynamic_slice_in_dim(x_all, start, batch)
        y = jax.lax.dynamic_slice_in_dim(y_all, start, batch)
        g = grad(params, x, y)
        t = t + 1
        m = jax.tree_util.tree_map(lambda m_, g_: b1 * m_ + (1 - b1) * g_, m, g)
        v = jax.tree_util.tree_map(lambda v_, g_: b2 * v_ + (1 - b2) * g_ * g_, v, g)
        scale = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        params = jax.tree_util.tree_map(lambda p, m_, v_: p - scale * m_ / (jnp.sqrt(v_) + eps), params, m, v)
        return (params, m, v, t, x_all, y_all), None

    @jax.jit
    def epoch(params, m, v, t, x_all, y_all, key):
        order = jax.random.permutation(key, x_all.shape[0])
        state = (params, m, v, t, x_all[order], y_all[order])
        state, _ = jax.lax.scan(step, state, jnp.arange(steps))
        return state[:4]

    return epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[784, 256, 10])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    x_train, y_train = load_mnist("train")
    x_test, y_test = load_mnist("test")
    x = jnp.asarray(x_train.reshape(len(x_train), -1), jnp.float32) / 255.0
    y = jnp.asarray(y_train, jnp.int32)
    steps = len(x_train) // args.batch
    params = init(args.sizes, jax.random.PRNGKey(0))
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    t = jnp.zeros((), jnp.float32)
    epoch = make_epoch(args.batch, steps)
    key = jax.random.PRNGKey(1)
    seconds = []
    for _ in range(args.epochs):
        key, sub = jax.random.split(key)
        begin = time.perf_counter()
        params, m, v, t = epoch(params, m, v, t, x, y, sub)
        jax.block_until_ready(params)
        seconds.append(time.perf_counter() - begin)
    test_x = jnp.asarray(x_test.reshape(len(x_test), -1), jnp.float32) / 255.0
    accuracy = float(jnp.mean(jnp.argmax(logits_of(params, test_x), -1) == jnp.asarray(y_test)))
    print(json.dumps({
        "device": str(jax.devices()[0]),
        "sizes": args.sizes,
        "batch": args.batch,
        "first_epoch_s": seconds[0],
        "steady_epoch_s": statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0],
        "test_accuracy": accuracy,
    }))


if __name__ == "__main__":
    main()
