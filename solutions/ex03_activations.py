"""Exercise 3: activation functions, built from scratch.

Without an activation a neuron is a straight line, and stacking straight
lines only gives another straight line. The activation f in
y = f(sum_i w_i x_i + b) is what lets a network bend. You will write the four
classic ones:

    sigmoid(z) = 1 / (1 + exp(-z))                 squashes to (0, 1)
    tanh(z)    = (exp(z) - exp(-z)) / (exp(z) + exp(-z))   squashes to (-1, 1)
    relu(z)    = max(z, 0)                          "off" below zero
    softmax(z)_j = exp(z_j) / sum_k exp(z_k)        turns scores into probabilities

The rules of this exercise: build them from elementwise TensorFlow pieces
only (tf.exp, tf.maximum, tf.abs, tf.sign, +, -, *, /, and tf.reduce_sum /
tf.reduce_max with keepdims=True). The ready-made versions are FORBIDDEN inside the four
functions and the helpers they call: tf.nn.* (tf.nn.sigmoid, tf.nn.relu,
tf.nn.softmax, ...), tf.math.sigmoid, tf.math.tanh, tf.tanh, tf.math.softmax,
keras.activations.* and keras.ops activations. The grader looks for them in
the code your functions reach, and watches for them while it runs them; exec,
eval and getattr with a computed name hide what is called, so they fail too.
Do use the ready-made versions to check your answers, in the
`if __name__ == "__main__":` block at the bottom: the grader never runs it.

Every function takes a float tf.Tensor of any shape and returns a tensor of
the same shape and dtype. (A numpy array with the same values, shape and dtype
counts as well: the grader compares values, never the type of container.)
"""

from __future__ import annotations

import tensorflow as tf

# ## 1. Sigmoid: a smooth on/off switch
# sigmoid(z) = 1 / (1 + exp(-z)). For very negative z, exp(-z) is huge and
# the result is close to 0; for very positive z, exp(-z) is close to 0 and
# the result is close to 1; sigmoid(0) = 1/2. Because it lies in (0, 1), it
# reads as a probability. If exp(-z) overflows to +inf (z below about -88 in
# float32), 1 / (1 + inf) = 0, which is still the right answer.


def sigmoid(x: tf.Tensor) -> tf.Tensor:
    """Logistic sigmoid, elementwise: sigmoid(x) = 1 / (1 + exp(-x)).

    Argument: x, float tf.Tensor (float32 or float64), any shape.
    Result: tf.Tensor, same shape and dtype as x, every value in [0, 1].
    Use tf.exp and arithmetic only.
    """
    return 1.0 / (1.0 + tf.exp(-x))


# ## 2. Tanh: sigmoid's centred cousin
# tanh(z) = (exp(z) - exp(-z)) / (exp(z) + exp(-z)) lies in (-1, 1) and is 0
# at z = 0. Typed in exactly like that it breaks for large |z|: exp(100)
# overflows to inf (float32 overflows above about 88) and inf / inf is nan.
# Multiplying the top and the bottom by exp(-z) gives
#     tanh(z) = (1 - exp(-2z)) / (1 + exp(-2z))
# which is safe for z >= 0 (exp(-2z) is at most 1) but NOT for negative z:
# at z = -100, exp(-2z) = exp(200) = inf and (1 - inf) / (1 + inf) is nan.
# The cure is to use that form only where it is safe. tanh is odd,
# tanh(-z) = -tanh(z), so compute it at |z| and put the sign back:
#     tanh(z) = sign(z) * (1 - exp(-2|z|)) / (1 + exp(-2|z|))
# Now exp only ever sees a number <= 0 and never overflows, for either sign.
# tf.abs(x) gives |x| and tf.sign(x) gives -1, 0 or 1, both elementwise.
# (The same trick in other clothes: tanh(z) = 2 * sigmoid(2z) - 1, so tanh
# is a sigmoid stretched to (-1, 1); it stays finite because section 1's
# sigmoid turns an overflowing exp into the right limit, 1 / (1 + inf) = 0.)


def tanh(x: tf.Tensor) -> tf.Tensor:
    """Hyperbolic tangent, elementwise: tanh(x) = sign(x) * (1 - e^-2|x|) / (1 + e^-2|x|).

    Argument: x, float tf.Tensor (float32 or float64), any shape.
    Result: tf.Tensor, same shape and dtype as x, every value in [-1, 1].
    The textbook formula (e^x - e^-x) / (e^x + e^-x) gives nan for |x| > ~89
    in float32, and (1 - e^-2x) / (1 + e^-2x) gives nan for x < ~-44; rewrite it
    (see section 2) so that it stays finite for both signs, e.g. at x = -100 and 100.
    """
    decay = tf.exp(-2.0 * tf.abs(x))  # in (0, 1]: never overflows
    return tf.sign(x) * (1.0 - decay) / (1.0 + decay)


# ## 3. ReLU: the rectified linear unit
# relu(z) = max(z, 0): negative inputs become 0, positive inputs pass through
# unchanged. It is cheap and its slope is 1 wherever it is "on", which is why
# deep networks train well with it. tf.maximum(a, b) takes the larger of a
# and b entry by entry; tf.zeros_like(x) is a tensor of zeros with x's shape
# and dtype.


def relu(x: tf.Tensor) -> tf.Tensor:
    """Rectified linear unit, elementwise: relu(x) = max(x, 0).

    Argument: x, float tf.Tensor (float32 or float64), any shape.
    Result: tf.Tensor, same shape and dtype as x, every value >= 0.
    """
    return tf.maximum(x, tf.zeros_like(x))


# ## 4. Softmax: scores to probabilities
# Softmax works on a whole vector of scores z_1 ... z_k at once:
#     softmax(z)_j = exp(z_j) / sum_k exp(z_k)
# Every output is positive and they add up to 1, and a larger score gets a
# larger share. For a batch (a matrix with one example per row, or any
# higher-rank tensor) the sum runs over the LAST axis only: axis=-1.
# keepdims=True keeps that axis with length 1 so that the division
# broadcasts back over every entry of the row.
# Subtracting the row's maximum first does not change the answer (the factor
# exp(-max) cancels between top and bottom) and keeps exp from overflowing;
# exercise 5 is all about that trick.


def softmax(x: tf.Tensor) -> tf.Tensor:
    """Softmax over the last axis: softmax(x)[..., j] = exp(x_j) / sum_k exp(x_k).

    Argument: x, float tf.Tensor (float32 or float64), any shape with rank >= 1,
        e.g. (k,) for one vector of scores or (m, k) for a batch of m rows.
    Result: tf.Tensor, same shape and dtype as x; values in [0, 1], and every
        slice along the last axis sums to 1.
    Use tf.exp, tf.reduce_sum(..., axis=-1, keepdims=True) (and, if you like,
    tf.reduce_max the same way).
    """
    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)
    exponentials = tf.exp(shifted)
    return exponentials / tf.reduce_sum(exponentials, axis=-1, keepdims=True)


if __name__ == "__main__":
    scores = tf.constant([[-2.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    for function in (sigmoid, tanh, relu, softmax):
        print(function.__name__, function(scores).numpy().round(3).tolist())
    # Far out on both sides: every value must be finite (no nan), sigmoid in [0, 1], tanh in [-1, 1].
    far = tf.constant([-100.0, -3.0, 0.0, 3.0, 100.0])
    print("sigmoid at -100, -3, 0, 3, 100:", [round(float(v), 4) for v in sigmoid(far).numpy()])
    print("tanh at -100, -3, 0, 3, 100:", [round(float(v), 4) for v in tanh(far).numpy()])

    try:  # the course package: installed, or in Jupyter from the course folder
        from grader.course import pictures
    except ImportError:  # `python exercises/ex03_activations.py` from a clone
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from grader.course import pictures

    z = tf.linspace(-5.0, 5.0, 201)
    pictures.activation_curves(z.numpy(), {f.__name__: f(z).numpy() for f in (sigmoid, tanh, relu)})
