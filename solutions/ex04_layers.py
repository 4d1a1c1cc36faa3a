"""Exercise 4: from one neuron to layers of neurons, in matrix form.

A layer is many neurons that read the same inputs. Neuron j has its own
weights w_1j ... w_nj and bias b_j. Stand those weight columns side by side
and you get a matrix W of shape (n, k): n inputs, k neurons. Then one matrix
product computes every neuron at once, and for a whole batch of m examples
(one per row of x) at once too:

    y = f(x W + b)        x: (m, n)   W: (n, k)   b: (k,)   y: (m, k)

A network is layers fed into each other, the output of one being the input
of the next:

    y = f2(f1(x W1 + b1) W2 + b2)

You will write one dense layer, the stacked forward pass, and the
initialisation that gives every weight a sensible starting value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

Activation = Callable[[tf.Tensor], tf.Tensor]

# ## 1. A dense layer is one matrix product
# tf.matmul(x, W) has entries (x W)[r, j] = sum_i x[r, i] W[i, j]: row r of
# the batch, neuron j of the layer. Adding b of shape (k,) to an (m, k)
# matrix "broadcasts": the same bias row is added to every one of the m rows.
# `activation` is a callable, applied to the whole (m, k) result. The grader
# passes trusted implementations of one of "sigmoid", "tanh", "relu",
# "softmax" or "identity"; you may pass tf.nn.relu or your own ex03 functions.


def dense(x: tf.Tensor, W: tf.Tensor, b: tf.Tensor, activation: Activation) -> tf.Tensor:
    """A fully connected layer: activation(x @ W + b).

    Arguments:
        x           float32 tf.Tensor, shape (m, n): m examples, n features each
        W           float32 tf.Tensor, shape (n, k): column j holds neuron j's weights
        b           float32 tf.Tensor, shape (k,): one bias per neuron
        activation  a callable taking and returning a tensor
    Result: float32 tf.Tensor, shape (m, k).
    """
    return activation(tf.matmul(x, W) + b)


# ## 2. Stacking layers: the forward pass
# A network is described by two lists of equal length: `params`, holding one
# (W, b) pair per layer, and `activations`, holding one callable per layer.
# The forward pass walks through them in order, each layer reading what the
# previous one produced. The shapes must chain: if layer 1 has W1 of shape
# (n, h), then layer 2's W2 must have h rows.
# zip(params, activations) walks the two lists side by side.


def forward(
    x: tf.Tensor,
    params: Sequence[tuple[tf.Tensor, tf.Tensor]],
    activations: Sequence[Activation],
) -> tf.Tensor:
    """Run x through a stack of dense layers: y = f_L(... f2(f1(x W1 + b1) W2 + b2) ...).

    Arguments:
        x            float32 tf.Tensor, shape (m, n_0)
        params       list of (W, b) pairs, W_i of shape (n_{i-1}, n_i), b_i of shape (n_i,)
        activations  list of callables, one per layer (same length as params)
    Result: float32 tf.Tensor, shape (m, n_L), the output of the last layer.
    """
    output = x
    for (W, b), activation in zip(params, activations):
        output = dense(output, W, b, activation)
    return output


# ## 3. Where do the first weights come from?
# Training starts from random weights, and their size matters. A neuron
# sums n_in terms w_i x_i; if every w_i has standard deviation s, the sum has
# standard deviation about s * sqrt(n_in) (for inputs of size about 1). With
# s = 1 / sqrt(n_in) the sum stays of size about 1 in every layer, however
# wide: the signal neither explodes nor fades. Biases simply start at 0.
# To make the result repeatable, draw the numbers from a seed:
# tf.random.stateless_normal(shape, seed=[seed, layer_index], stddev=...)
# returns the same numbers every time for the same seed pair. (A
# tf.random.Generator.from_seed(seed) works too.)


def init_params(sizes: Sequence[int], seed: int) -> list[tuple[tf.Tensor, tf.Tensor]]:
    """Random starting weights for a stack of dense layers.

    Arguments:
        sizes  list of ints [n_0, n_1, ..., n_L], e.g. [784, 128, 10] for
               784 inputs, a hidden layer of 128 and 10 outputs
        seed   int; the same seed must give the same weights every time
    Result: a list of L pairs (W_i, b_i), float32 tf.Tensors, with
        W_i of shape (n_{i-1}, n_i), drawn from a normal distribution with
            mean 0 and standard deviation 1 / sqrt(n_{i-1}) (the fan-in)
        b_i of shape (n_i,), all zeros
    """
    params = []
    for layer_index in range(len(sizes) - 1):
        fan_in, fan_out = sizes[layer_index], sizes[layer_index + 1]
        W = tf.random.stateless_normal(
            (fan_in, fan_out),
            seed=[seed, layer_index],
            stddev=1.0 / fan_in**0.5,
            dtype=tf.float32,
        )
        b = tf.zeros((fan_out,), dtype=tf.float32)
        params.append((W, b))
    return params


if __name__ == "__main__":
    network = init_params([4, 8, 3], seed=0)
    batch = tf.random.stateless_normal((5, 4), seed=[1, 2])
    scores = forward(batch, network, [tf.nn.relu, lambda z: z])
    print("output shape:", scores.shape)
