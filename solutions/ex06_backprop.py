"""Exercise 6: backpropagation by hand.

To train a network we need, for every weight, the gradient of the loss: how
much the loss changes when that weight moves a little. Backpropagation gets
all of them in one sweep backwards through the computation, applying the
chain rule at each step. Here you do it by hand for a network with one
hidden layer:

    x --> L1 = x W1 + b1 --> S = sigmoid(L1) --> L2 = S W2 + b2 --> loss

    x: (m, n)    W1: (n, h)  b1: (h,)    S, L1: (m, h)
                 W2: (h, k)  b2: (k,)    L2: (m, k)    y: (m,) integer labels

    loss = cross_entropy(L2, y) = -(1/m) sum_r log softmax(L2)[r, y_r]

The forward pass computes the loss and keeps (in a "cache") the intermediate
values the backward pass will need. The backward pass turns them into the
four gradients dloss/dW1, dloss/db1, dloss/dW2, dloss/db2.

Notation: from here on, dX is short for dloss/dX, the gradient of the loss
with respect to the tensor X (dW1 = dloss/dW1, dL2 = dloss/dL2, dS = dloss/dS).
dX has exactly the shape of X, and dX[r, j] says how fast the loss changes
when X[r, j] alone is nudged: loss changes by about dX[r, j] * nudge.

FORBIDDEN in forward, backward and the helpers they call (the grader looks
for them there): tf.GradientTape, tf.gradients and any other automatic
differentiation. The grader uses GradientTape itself to check your answers,
and so may you, in the `if __name__ == "__main__":` block: it is never graded.
"""

from __future__ import annotations

import tensorflow as tf

# ## 1. Provided helpers: sigmoid and a stable log-softmax
# These are ready for you (you wrote the same ideas in exercises 3 and 5).
# They live in this file so that this exercise works even if those are not
# finished yet. Do not change them.


def _sigmoid(z: tf.Tensor) -> tf.Tensor:
    """sigmoid(z) = 1 / (1 + exp(-z)), elementwise; same shape and dtype as z."""
    return 1.0 / (1.0 + tf.exp(-z))


def _log_softmax(z: tf.Tensor) -> tf.Tensor:
    """log softmax over the last axis, with the max-subtraction trick; same shape and dtype."""
    shifted = z - tf.reduce_max(z, axis=-1, keepdims=True)
    return shifted - tf.math.log(tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True))


# ## 2. The forward pass, and what to remember
# Compute the graph above one node at a time. For the loss, pick each row's
# log-probability of its true class with
#     tf.gather(log_probabilities, y, axis=1, batch_dims=1)
# and average with a minus sign. The backward pass needs x, S, the softmax
# probabilities P = softmax(L2) = exp(log_softmax(L2)) and y, so put them in
# the cache (a dict of tensors is the simplest cache).


def forward(
    params: dict[str, tf.Tensor], x: tf.Tensor, y: tf.Tensor
) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """Forward pass of the one-hidden-layer network, with its loss.

    Arguments:
        params  dict of float32 tf.Tensors: "W1" (n, h), "b1" (h,),
                "W2" (h, k), "b2" (k,)
        x       float32 tf.Tensor, shape (m, n), one example per row
        y       integer tf.Tensor (int32 or int64), shape (m,), labels in 0 .. k-1
    Result: (loss, cache) where
        loss   scalar float32 tf.Tensor (shape ()), the mean cross-entropy
        cache  a dict of tensors holding what backward() needs
               (for example "x", "S", "P" = softmax(L2) of shape (m, k), and "y")
    """
    L1 = tf.matmul(x, params["W1"]) + params["b1"]
    S = _sigmoid(L1)
    L2 = tf.matmul(S, params["W2"]) + params["b2"]
    log_probabilities = _log_softmax(L2)
    labels = tf.cast(y, tf.int32)
    picked = tf.gather(log_probabilities, labels, axis=1, batch_dims=1)
    loss = -tf.reduce_mean(picked)
    cache = {"x": x, "S": S, "P": tf.exp(log_probabilities), "y": labels}
    return loss, cache


# ## 3. The output end: softmax and cross-entropy together
# Remember the notation: dL2 means dloss/dL2, the gradient of the loss with
# respect to L2, a tensor with the shape of L2. The gradient of the mean
# cross-entropy with respect to the logits L2 is remarkably simple:
#     dL2 = (softmax(L2) - one_hot(y)) / m                       shape (m, k)
# Row r says: raise the score of the true class (P - 1 < 0) and lower every
# other score in proportion to the probability it wrongly received. The 1/m
# comes from the mean. tf.one_hot(y, k, dtype=P.dtype) builds one_hot(y).
#
# ## 4. Through a dense layer: L2 = S W2 + b2
# Each W2[i, j] multiplies S[r, i] in the sum for L2[r, j], for every row r.
# The chain rule adds up those contributions over the rows:
#     dW2 = S^T dL2          (h, m) @ (m, k) = (h, k), the shape of W2
#     db2 = sum over rows of dL2                  (k,), the shape of b2
#     dS  = dL2 W2^T         (m, k) @ (k, h) = (m, h), the shape of S
# A gradient always has the shape of the thing it belongs to: use that to
# check where the transposes go. tf.matmul(a, b, transpose_a=True) is a^T b.
#
# ## 5. Through the sigmoid: S = sigmoid(L1)
# The sigmoid's slope is sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)) = S (1 - S),
# applied entry by entry (an elementwise product, not a matrix product):
#     dL1 = dS * S * (1 - S)                      (m, h)
#
# ## 6. Through the first dense layer: L1 = x W1 + b1
# The same rule as section 4, one layer earlier:
#     dW1 = x^T dL1          (n, m) @ (m, h) = (n, h)
#     db1 = sum over rows of dL1                  (h,)
# (We do not need dx: nobody updates the input.)


def backward(params: dict[str, tf.Tensor], cache: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Gradients of the mean cross-entropy loss, by the chain rule, by hand.

        dL2 = (softmax(L2) - one_hot(y)) / m     dW2 = S^T dL2     db2 = sum_rows dL2
        dS  = dL2 W2^T                           dL1 = dS * S * (1 - S)
        dW1 = x^T dL1                            db1 = sum_rows dL1

    Arguments:
        params  the same dict forward() received ("W1", "b1", "W2", "b2")
        cache   the cache forward() returned
    Result: dict of float32 tf.Tensors {"W1": dW1 (n, h), "b1": db1 (h,),
        "W2": dW2 (h, k), "b2": db2 (k,)}, each the shape of its parameter.
    """
    x, S, P, y = cache["x"], cache["S"], cache["P"], cache["y"]
    batch_size = tf.cast(tf.shape(x)[0], P.dtype)
    number_of_classes = tf.shape(P)[1]

    dL2 = (P - tf.one_hot(y, number_of_classes, dtype=P.dtype)) / batch_size
    dW2 = tf.matmul(S, dL2, transpose_a=True)
    db2 = tf.reduce_sum(dL2, axis=0)

    dS = tf.matmul(dL2, params["W2"], transpose_b=True)
    dL1 = dS * S * (1.0 - S)

    dW1 = tf.matmul(x, dL1, transpose_a=True)
    db1 = tf.reduce_sum(dL1, axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


if __name__ == "__main__":
    shapes = {"W1": (3, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)}
    demo_params = {
        key: tf.random.stateless_normal(shape, seed=[index, 0])
        for index, (key, shape) in enumerate(shapes.items())
    }
    demo_x = tf.random.stateless_normal((5, 3), seed=[7, 7])
    demo_loss, demo_cache = forward(demo_params, demo_x, tf.constant([0, 1, 1, 0, 1]))
    print("loss:", float(demo_loss))
    for key, gradient in backward(demo_params, demo_cache).items():
        print(key, gradient.shape)
