"""Exercise 7: gradient descent, the loop that learns.

Exercise 6 told us, for every weight, which way is uphill for the loss: the
gradient. Gradient descent takes a small step the other way, again and again:

    W <- W - lr * dloss/dW          for every parameter W

The learning rate lr sets the step size: too small and learning crawls, too
large and the loss jumps around or blows up. "Full-batch" means every step
uses all m training examples to compute the gradient.

You will write one update step and the training loop that repeats it, then
train the network of exercise 6 on a problem no straight line can solve:
two interleaved spirals in the plane (grader/course/toydata.py). A single layer
would fail; the hidden layer of sigmoids bends the decision boundary around
the spiral arms.

This file imports your forward and backward from exercise 6, so finish that
one first.
"""

from __future__ import annotations

import tensorflow as tf
from ex06_backprop import backward, forward

# ## 1. One step downhill
# params and grads are dicts with the same keys ("W1", "b1", "W2", "b2").
# The update is the same for every key, so loop over the keys. Build and
# return a NEW dict rather than changing `params`: the caller may still want
# the old values (to compare, or to retry with another learning rate).


def sgd_step(
    params: dict[str, tf.Tensor], grads: dict[str, tf.Tensor], lr: float
) -> dict[str, tf.Tensor]:
    """One gradient-descent update: W' = W - lr * dW for every key.

    Arguments:
        params  dict of float32 tf.Tensors, e.g. "W1", "b1", "W2", "b2"
        grads   dict with the same keys, each gradient the shape of its parameter
        lr      float, the learning rate (step size), e.g. 0.5
    Result: a new dict with the same keys, shapes and dtypes (float32);
        `params` itself is left unchanged.
    """
    return {key: params[key] - lr * grads[key] for key in params}


# ## 2. Provided helper: the starting point
# Training starts from random weights with standard deviation 1 / sqrt(fan_in)
# and zero biases (exercise 4, section 3), drawn from a seed so that two runs
# with the same seed give exactly the same result. Use it, do not change it.


def _initial_params(n_inputs: int, hidden: int, n_classes: int, seed: int) -> dict[str, tf.Tensor]:
    """Starting parameters: "W1" (n_inputs, hidden), "b1" (hidden,),
    "W2" (hidden, n_classes), "b2" (n_classes,); float32; W ~ normal(0, 1/sqrt(fan_in))."""
    return {
        "W1": tf.random.stateless_normal(
            (n_inputs, hidden), seed=[seed, 1], stddev=1.0 / n_inputs**0.5
        ),
        "b1": tf.zeros((hidden,), dtype=tf.float32),
        "W2": tf.random.stateless_normal(
            (hidden, n_classes), seed=[seed, 2], stddev=1.0 / hidden**0.5
        ),
        "b2": tf.zeros((n_classes,), dtype=tf.float32),
    }


# ## 3. The training loop
# Every step does the same three things:
#     loss, cache = forward(params, x, y)      how wrong are we now?
#     grads = backward(params, cache)          which way is downhill?
#     params = sgd_step(params, grads, lr)     take one step
# Record float(loss) at every step: a loss curve that goes down steadily is
# the first sign that training works. With 2 input features (the x and y
# coordinates of a point) and 2 classes, the network is 2 -> hidden -> 2.


def fit(
    x: tf.Tensor, y: tf.Tensor, hidden: int, lr: float, steps: int, seed: int
) -> tuple[dict[str, tf.Tensor], list[float]]:
    """Train the exercise-6 network with full-batch gradient descent.

    Arguments:
        x       float32 tf.Tensor, shape (m, 2), one point per row
        y       integer tf.Tensor (int32), shape (m,), class labels 0 or 1
        hidden  int, the number of sigmoid units in the hidden layer
        lr      float, the learning rate
        steps   int, how many gradient-descent steps to take
        seed    int, seeds the starting weights (use _initial_params(2, hidden, 2, seed))
    Result: (params, loss_history) where
        params        the final dict "W1" (2, hidden), "b1" (hidden,),
                      "W2" (hidden, 2), "b2" (2,), float32 tf.Tensors
        loss_history  list of `steps` Python floats: the loss computed at the
                      start of each step, before that step's update
    """
    params = _initial_params(2, hidden, 2, seed)
    loss_history = []
    for _ in range(steps):
        loss, cache = forward(params, x, y)
        grads = backward(params, cache)
        params = sgd_step(params, grads, lr)
        loss_history.append(float(loss))
    return params, loss_history


if __name__ == "__main__":
    try:  # the course package: installed, or in Jupyter from the course folder
        from grader.course.toydata import RECOMMENDED_FIT, two_spirals
    except ImportError:  # `python exercises/ex07_gradient_descent.py` from a clone
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from grader.course.toydata import RECOMMENDED_FIT, two_spirals

    points, labels = two_spirals(400, seed=0)
    final, history = fit(tf.constant(points), tf.constant(labels), seed=0, **RECOMMENDED_FIT)
    _, final_cache = forward(final, tf.constant(points), tf.constant(labels))
    predictions = tf.argmax(final_cache["P"], axis=1).numpy()
    accuracy = (predictions == labels).mean()
    print(f"loss {history[0]:.3f} -> {history[-1]:.3f}, training accuracy {accuracy:.1%}")
    final_grads = backward(final, final_cache)
    steepness = max(float(tf.reduce_max(tf.abs(gradient))) for gradient in final_grads.values())
    print(f"largest gradient entry at the end: {steepness:.4f} (near a minimum it is small)")

    from grader.course import pictures

    pictures.loss_curve(history)

    def classify(grid):
        _, grid_cache = forward(final, tf.constant(grid), tf.zeros(len(grid), dtype=tf.int32))
        return tf.argmax(grid_cache["P"], axis=1).numpy()

    pictures.decision_boundary(classify, points, labels)
