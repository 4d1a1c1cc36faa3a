"""Exercise 2: one artificial neuron, computed two ways.

A neuron takes n input numbers x_1 ... x_n, multiplies each by its own
weight w_i, adds everything up together with a bias b, and passes the total
through an activation function f:

    y = f(sum_i w_i x_i + b)

The weighted sum measures how strongly the input matches the pattern stored
in the weights; the bias shifts the threshold; the activation bends the
straight-line response into something more useful (a probability for
sigmoid, "off below zero" for relu, ...).

In this exercise x and w are row vectors of shape (1, n), b has shape (1, 1)
and the answer keeps the shape (1, 1). You compute the same neuron twice:
once with an elementwise product and a sum, once with a matrix product. The
second form is the one every layer in the rest of the course uses.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

# ## 1. The activation is a function you are handed
# The argument `activation` is a callable: something you call like
# activation(z). The grader passes trusted implementations of one of
# "sigmoid", "tanh", "relu", "softmax" or "identity"; while experimenting you
# may pass tf.nn.relu, tf.math.sigmoid or lambda z: z yourself. Your code
# never needs to know which one it got: it computes z and returns
# activation(z).

Activation = Callable[[tf.Tensor], tf.Tensor]


# ## 2. The weighted sum, written out
# x * w multiplies matching entries ("elementwise"): for shapes (1, n) and
# (1, n) the result is (1, n) with entries x_i w_i. tf.reduce_sum then adds
# entries along an axis. Summing along axis=1 (across the columns) leaves one
# number per row; keepdims=True keeps that axis with length 1, so the result
# is (1, 1) rather than (1,), and adding b of shape (1, 1) keeps it (1, 1).


def neuron_sum(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, activation: Activation) -> tf.Tensor:
    """One neuron by elementwise product and sum: activation(sum_i x_i w_i + b).

    Arguments:
        x           float32 tf.Tensor, shape (1, n), the inputs
        w           float32 tf.Tensor, shape (1, n), one weight per input
        b           float32 tf.Tensor, shape (1, 1), the bias
        activation  a callable taking and returning a tensor (e.g. the
                    grader's trusted "sigmoid", or tf.nn.relu)
    Result: float32 tf.Tensor, shape (1, 1).

    Use x * w and tf.reduce_sum(..., axis=1, keepdims=True); no tf.matmul.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# ## 3. The same sum as a matrix product
# A matrix product A @ B multiplies rows of A by columns of B: for A of
# shape (p, n) and B of shape (n, q) the result is (p, q) with
#     (A @ B)[r, c] = sum_i A[r, i] B[i, c]
# That is exactly our weighted sum if A is the row x (1, n) and B is w stood
# up as a column (n, 1). Turning a row into a column is a transpose:
# tf.transpose(w) has shape (n, 1) (tf.reshape(w, (-1, 1)) works too).
# Then tf.matmul(x, w^T) has shape (1, 1), ready for + b.


def neuron_matmul(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, activation: Activation) -> tf.Tensor:
    """One neuron by matrix product: activation(x @ w^T + b).

    Arguments:
        x           float32 tf.Tensor, shape (1, n), the inputs
        w           float32 tf.Tensor, shape (1, n), one weight per input
        b           float32 tf.Tensor, shape (1, 1), the bias
        activation  a callable taking and returning a tensor
    Result: float32 tf.Tensor, shape (1, 1), equal to neuron_sum(x, w, b, activation).

    tf.matmul(x, w) fails, because (1, n) @ (1, n) does not line up: the
    inner lengths n and 1 differ. Transpose w to shape (n, 1) first.
    """
    # YOUR CODE HERE
    raise NotImplementedError


if __name__ == "__main__":
    inputs = tf.constant([[1.0, 2.0, 3.0]])
    weights = tf.constant([[0.5, -1.0, 0.25]])
    bias = tf.constant([[0.1]])
    print("by sum:   ", neuron_sum(inputs, weights, bias, tf.math.sigmoid).numpy())
    print("by matmul:", neuron_matmul(inputs, weights, bias, tf.math.sigmoid).numpy())
