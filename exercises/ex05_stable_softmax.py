"""Exercise 5: softmax and cross-entropy that do not overflow.

On paper softmax(x)_j = exp(x_j) / sum_k exp(x_k) is harmless. On a
computer exp overflows quickly: in float32, exp(89) is already inf, and a
classifier that is very sure of itself easily produces scores of 1000. Then
the formula computes inf / inf = nan, and one nan poisons the whole training
run.

The cure is one line of algebra, the "max-subtraction trick". You will use it
to write four functions that stay finite and correct for any finite input,
even scores of +-1000 or float32's extremes (about +-3.4e38):

    logsumexp(x)       = log sum_k exp(x_k)
    stable_softmax(x)  = exp(x_j) / sum_k exp(x_k)
    log_softmax(x)     = x_j - logsumexp(x)
    cross_entropy      = mean over examples of -log_softmax(logits)[label]

FORBIDDEN in these functions and the helpers they call (the grader looks for
them there; your `if __name__ == "__main__":` checks may use them): tf.nn.* (tf.nn.softmax,
tf.nn.log_softmax, tf.nn.sparse_softmax_cross_entropy_with_logits, ...),
tf.math.softmax, tf.reduce_logsumexp / tf.math.reduce_logsumexp and the Keras
losses and activations. Build everything from tf.exp, tf.math.log,
tf.reduce_max, tf.reduce_sum, tf.reduce_mean, arithmetic and tf.gather.
Every function keeps the dtype it is given: float32 in, float32 out; float64
in, float64 out.
"""

from __future__ import annotations

import tensorflow as tf

# ## 1. The max-subtraction trick
# Let m be any number, for example m = max_k x_k. Since exp(a + b) = exp(a) exp(b),
#     sum_k exp(x_k) = sum_k exp(m + (x_k - m)) = exp(m) * sum_k exp(x_k - m)
# Take the log of both sides:
#     log sum_k exp(x_k) = m + log sum_k exp(x_k - m)
# With m the maximum, every x_k - m is <= 0, so every exp(x_k - m) lies in
# (0, 1]: nothing overflows. At least one term (the maximum itself) equals
# exp(0) = 1, so the sum is >= 1 and its log is never log(0) = -inf.
# An entry far below the maximum gives exp(-huge) = 0, which is all it
# contributes at float precision. Even if x_k - m overflows to -inf
# (x = [3.4e38, -3.4e38]), exp(-inf) = 0 is still correct, and no nan appears.


def logsumexp(x: tf.Tensor, axis: int = -1) -> tf.Tensor:
    """log sum_k exp(x_k) along one axis, computed without overflow.

    logsumexp(x) = m + log sum_k exp(x_k - m), with m = max_k x_k.

    Arguments:
        x     float tf.Tensor (float32 or float64), any shape of rank >= 1
        axis  int, the axis to reduce (default: the last one)
    Result: tf.Tensor of x's dtype, with `axis` removed: shape (batch,) for a
        (batch, k) input and axis=-1; shape () for a rank-1 input.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# ## 2. Softmax, stabilised
# The same factor exp(m) appears on top and at the bottom of softmax, so it
# cancels:
#     exp(x_j) / sum_k exp(x_k) = exp(x_j - m) / sum_k exp(x_k - m)
# Compute the right-hand side and no exp ever sees a positive argument.
# As in exercise 3, reduce over the last axis with keepdims=True so the
# division broadcasts over each row.


def stable_softmax(x: tf.Tensor) -> tf.Tensor:
    """Softmax over the last axis, safe for any finite input.

    stable_softmax(x)_j = exp(x_j - m) / sum_k exp(x_k - m), m = max_k x_k.

    Argument: x, float tf.Tensor (float32 or float64), any shape of rank >= 1.
    Result: tf.Tensor, same shape and dtype as x, finite, values in [0, 1],
        each slice along the last axis summing to 1.
        Example: stable_softmax([1000., -1000.]) == [1., 0.].
    """
    # YOUR CODE HERE
    raise NotImplementedError


# ## 3. Log-softmax: stay in log space
# Cross-entropy needs log(softmax(x)_j). Computing softmax and then taking
# the log fails when a probability underflows to 0: log(0) = -inf, although
# the true value, say -2000, is an ordinary number. Take the log by hand:
#     log softmax(x)_j = (x_j - m) - log sum_k exp(x_k - m)
# Subtract m FIRST. Writing x_j - logsumexp(x) instead loses the answer for
# huge inputs: for x = [3.4e38, 3.4e38], logsumexp rounds to 3.4e38 and
# x_j - 3.4e38 = 0 instead of the correct -log 2.


def log_softmax(x: tf.Tensor) -> tf.Tensor:
    """Logarithm of softmax over the last axis, computed directly.

    log_softmax(x)_j = (x_j - m) - log sum_k exp(x_k - m), m = max_k x_k.

    Argument: x, float tf.Tensor (float32 or float64), any shape of rank >= 1.
    Result: tf.Tensor, same shape and dtype as x, values <= 0.
        Example: log_softmax([1000., -1000.]) == [0., -2000.].
        (For x = [3.4e38, -3.4e38] the true second value, -6.8e38, is below
        float32's range, so -inf is the right float32 answer there.)
    """
    # YOUR CODE HERE
    raise NotImplementedError


# ## 4. Cross-entropy: how surprised was the model?
# A classifier outputs one score ("logit") per class; softmax turns them into
# probabilities p_1 ... p_k. If the true class is y, the loss for that
# example is the negative log-likelihood -log p_y: 0 when the model put all
# its probability on y, large when it thought y unlikely. Over a batch of m
# examples we average:
#     loss = -(1/m) sum_r log_softmax(logits)[r, y_r]
# Picking entry y_r from row r is a gather:
#     tf.gather(log_probabilities, labels, axis=1, batch_dims=1)
# returns, for every row r, the entry in column labels[r], shape (m,).
# Careful with the other classic way, sum(one_hot(y) * log_probabilities):
# a log-probability of -inf (possible with float32 extremes) times a 0 in
# the one-hot vector gives nan. The gather never touches the other columns.


def cross_entropy(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Mean softmax cross-entropy (negative log-likelihood) of a batch.

    loss = -(1/m) sum_r log_softmax(logits)[r, labels[r]]

    Arguments:
        logits  float tf.Tensor (float32 or float64), shape (m, k): one row of
                k class scores per example
        labels  integer tf.Tensor (int32 or int64), shape (m,): the true
                class of each example, in 0 .. k-1
    Result: a scalar tf.Tensor (shape (), rank 0) of the logits' dtype, >= 0.
    """
    # YOUR CODE HERE
    raise NotImplementedError


if __name__ == "__main__":
    extreme = tf.constant([[1000.0, -1000.0], [3.4e38, -3.4e38], [3.4e38, 3.4e38]])
    print("stable softmax:", stable_softmax(extreme).numpy().tolist())
    print("log softmax:   ", log_softmax(extreme).numpy().tolist())
    print("cross-entropy: ", float(cross_entropy(extreme, tf.constant([0, 0, 1]))))
