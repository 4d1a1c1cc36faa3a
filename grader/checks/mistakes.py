"""The words for typical learner mistakes: mistake id -> (what went wrong, what to try).

The values a mistake produces are computed by the hidden reference (and stored
for public inputs by `grader.instructor.fixtures`); a check that finds the learner's output
equal to one of them names the mistake with these words.
"""

from __future__ import annotations

__all__ = ["MISTAKES", "OVERFLOW_HINT", "UNDERFLOW_HINT"]

OVERFLOW_HINT = (
    "exp(1000) overflows to inf, and inf / inf is nan: subtract the row max before exp "
    "(x - tf.reduce_max(x, axis=-1, keepdims=True))"
)
UNDERFLOW_HINT = (
    "-inf is the log of an underflowed 0 (log(softmax) fails when a probability rounds to 0); "
    "stay in log space: log_softmax = (x - m) - log(sum(exp(x - m)))"
)

MISTAKES: dict[str, tuple[str, str]] = {
    # ex02: one neuron
    "neuron_no_bias": (
        "your result matches sum(x*w) without the bias b",
        "add the bias after the sum: activation(sum(x * w) + b)",
    ),
    "neuron_no_activation": (
        "your result matches sum(x*w) + b without the activation",
        "return activation(z): call the function you were given on the weighted sum",
    ),
    "neuron_activation_before_bias": (
        "your result matches activation(sum(x*w)) + b: the bias was added after the activation",
        "add b first, then apply the activation to the total",
    ),
    # ex03: activations
    "sigmoid_sign": (
        "your values match 1 / (1 + exp(x)), which is sigmoid(-x): a sign error",
        "the exponent is minus x: 1 / (1 + tf.exp(-x))",
    ),
    "tanh_is_sigmoid": (
        "your values match sigmoid(x), which lies in (0, 1); tanh lies in (-1, 1)",
        "tanh(x) = 2 * sigmoid(2x) - 1",
    ),
    "tanh_sign": (
        "your values match -tanh(x): a sign error",
        "tanh(x) = 2 * sigmoid(2x) - 1 is positive for positive x (and stays finite at +-100)",
    ),
    "relu_abs": (
        "your values match abs(x): negative inputs must become 0, not positive",
        "relu(x) = max(x, 0): tf.maximum(x, tf.zeros_like(x))",
    ),
    "relu_min": (
        "your values match min(x, 0): you kept the negative inputs and zeroed the positive ones",
        "relu keeps the larger of x and 0: tf.maximum, not tf.minimum",
    ),
    "softmax_wrong_axis": (
        "you normalised over the wrong axis: each ROW (the last axis) must sum to 1, "
        "but your columns do",
        "sum over the last axis: tf.reduce_sum(e, axis=-1, keepdims=True)",
    ),
    "softmax_all_entries": (
        "you normalised over the wrong axis: you divided by the sum of EVERY entry, "
        "but each row must sum to 1 on its own",
        "sum over the last axis only: tf.reduce_sum(e, axis=-1, keepdims=True)",
    ),
    "softmax_no_exp": (
        "your values match x / sum(x): the exponential is missing",
        "softmax(x)_j = exp(x_j) / sum_k exp(x_k)",
    ),
    # ex04: layers
    "dense_no_bias": (
        "your result matches activation(x @ W) without the bias b",
        "add b to x @ W before the activation: activation(tf.matmul(x, W) + b)",
    ),
    "dense_no_activation": (
        "your result matches x @ W + b without the activation",
        "return activation(tf.matmul(x, W) + b)",
    ),
    "dense_transposed": (
        "your result matches x @ W^T: the weights are transposed",
        "column j of W holds neuron j's weights, so it is tf.matmul(x, W) with no transpose",
    ),
    "forward_no_bias": (
        "your result matches the layers without their biases",
        "every layer adds its own b: h = f_i(h @ W_i + b_i) (does your dense add b?)",
    ),
    "forward_last_activation_only": (
        "your result matches the layers without activations, with only the last activation "
        "applied at the end",
        "apply each layer's own activation inside the loop: h = f_i(h @ W_i + b_i)",
    ),
    "forward_first_activation_everywhere": (
        "your result matches every layer using the FIRST activation",
        "pair each layer with its own activation: for (W, b), f in zip(params, activations)",
    ),
    "forward_no_activation": (
        "your result matches the layers with no activation at all",
        "apply each layer's activation: h = f_i(h @ W_i + b_i)",
    ),
    "forward_activations_reversed": (
        "your result matches the activations used in reverse order",
        "layer i uses activations[i]: zip(params, activations)",
    ),
    # ex05: stable softmax and cross-entropy
    "lse_no_add_back": (
        "your values match log(sum(exp(x - m))): you subtracted the max m but forgot to add it back",
        "logsumexp(x) = m + log(sum(exp(x - m)))",
    ),
    "log_softmax_late_shift": (
        "you lost precision at float32's largest values: x - logsumexp(x) rounds logsumexp to the "
        "size of x, giving 0 instead of -log 2",
        "subtract the max FIRST: (x - m) - log(sum(exp(x - m)))",
    ),
    "log_softmax_is_softmax": (
        "your values match softmax(x), not its logarithm",
        "log_softmax = (x - m) - log(sum(exp(x - m))), every value <= 0",
    ),
    "log_softmax_sign": (
        "your values match -log_softmax(x): a sign error (log-probabilities are <= 0)",
        "log_softmax = (x - m) - log(sum(exp(x - m)))",
    ),
    "ce_sum": (
        "your loss is m times too large: a sum over the batch where a mean belongs",
        "use tf.reduce_mean (the sum divided by the number of examples m)",
    ),
    "ce_sign": (
        "your loss matches +mean(log p): the minus sign is missing (cross-entropy is >= 0)",
        "loss = -mean over rows of log_softmax(logits)[r, labels[r]]",
    ),
    "ce_probabilities": (
        "your loss matches -mean(p_label): the logarithm is missing",
        "use log_softmax(logits), not the probabilities",
    ),
}
