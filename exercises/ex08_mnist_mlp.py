"""Exercise 8: a Keras MLP that reads handwritten digits (MNIST).

Everything from the earlier exercises comes together here: layers in matrix form
(h = relu(x W1 + b1)), a softmax over 10 classes, cross-entropy, and gradient descent.
This time Keras does the bookkeeping, and your job is to choose the pieces well.

The data: 60,000 training images and 10,000 test images of the digits 0..9, each a
28 x 28 grid of uint8 grey levels, 0 (black) to 255 (white). The grader loads them
for you; a label is a uint8 integer 0..9.

The model is a multi-layer perceptron (MLP), and nothing else (no convolutions):

    x (28, 28) uint8  ->  x / 255  ->  flatten to 784 numbers
      ->  h = relu(x W1 + b1)       W1: (784, H)   b1: (H,)
      ->  z = h W2 + b2             W2: (H, 10)    b2: (10,)     the 10 "logits"
      ->  p = softmax(z)            p_j = exp(z_j) / sum_k exp(z_k)

and it learns by lowering the cross-entropy loss = -log p_label, averaged over a batch.

The goal: at least 98.0 % of the 10,000 test images right after train(model, x, y, 10, 128),
and, because time matters, get there in a few seconds on a laptop CPU.

The code only uses the Keras 3 API (`import keras`), so it runs unchanged on the
TensorFlow or the JAX backend (set KERAS_BACKEND before Python starts), on CPU or GPU.
"""

from __future__ import annotations

import keras
import numpy as np

# ## 1. Hyperparameters, named where they are used
# HIDDEN_UNITS is H above: the width of the one hidden layer. Wider layers learn in fewer
# passes over the data (epochs) but each pass costs more; 512 was the best trade on 2 CPU
# cores (784-512-10 reached 98 % in 4 epochs, 784-256-10 needed 5 to 9).
# PEAK_LEARNING_RATE is the largest step size Adam takes (see section 4).
# STEPS_PER_EXECUTION runs that many batches per call into the compiled graph, which saves
# Python overhead when the batches are small.
# EPOCHS and BATCH_SIZE are how the grader trains your model: train(model, x, y, EPOCHS,
# BATCH_SIZE) on the 60,000 training images (EPOCHS at most 10, BATCH_SIZE 32 to 2048).
# 6 passes of 256 images per step reach 98 % here; fewer epochs finish sooner but land
# just under it.

HIDDEN_UNITS = 512
NUM_CLASSES = 10
PEAK_LEARNING_RATE = 2e-3
STEPS_PER_EXECUTION = 16
EPOCHS = 6
BATCH_SIZE = 256

# ## 2. The model: scaling, flattening, two Dense layers
# The model takes the raw uint8 images and scales them itself with a Rescaling layer
# (x * 1/255, so every pixel is in [0, 1]). Inputs near 0..1 keep the first layer's
# pre-activations x W1 + b1 small, which is what its default initialisation expects; raw
# 0..255 values would make the first steps of training wildly too large.
# Flatten turns each (28, 28) image into a vector of 28 * 28 = 784 numbers.
# The last Dense layer has 10 units and NO activation: it returns logits z. The softmax is
# folded into the loss (section 3), which is more accurate than taking log(softmax(z)).
# The parameter count is 784 * 512 + 512 + 512 * 10 + 10 = 407,050.


def build_model() -> keras.Model:
    """Build the MLP  uint8 image -> Rescaling(1/255) -> Flatten -> Dense(relu) -> Dense(10).

    Input: keras.Input(shape=(28, 28)), a batch of images, shape (batch, 28, 28), with raw
        grey levels 0..255 (uint8 or float; the model scales them itself).
    Output: float32 logits, shape (batch, 10): one score per digit; the predicted digit is
        the argmax. No convolutions, only Rescaling, Flatten and Dense layers.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# ## 3. The loss, the optimiser and the metric
# The labels are integers 0..9, not one-hot vectors, so the loss is the *sparse*
# categorical cross-entropy: loss = -log softmax(z)_label. from_logits=True tells Keras
# that the model outputs logits z, so the loss applies the softmax itself, in a stable way
# (the log-sum-exp trick from exercise 5).
# Adam is gradient descent with a separate, adaptive step size for every weight.
# metrics=["accuracy"] reports the fraction of images whose argmax is the label.
# jit_compile=True asks for XLA compilation of the training step: on the TensorFlow backend
# it is off by default on CPU; after a one-off compile of about a second, it made each
# epoch about 1.5 times faster here.


def compile_model(
    model: keras.Model,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = PEAK_LEARNING_RATE,
) -> keras.Model:
    """Compile `model` for training: Adam, sparse categorical cross-entropy, accuracy.

    Arguments: model, the keras.Model from build_model() (logits, shape (batch, 10));
        learning_rate, a float or a keras learning-rate schedule (default PEAK_LEARNING_RATE).
    Result: the same model, compiled with loss SparseCategoricalCrossentropy(from_logits=True)
        and metrics=["accuracy"].
    """
    # YOUR CODE HERE
    raise NotImplementedError


# ## 4. Training with a learning-rate schedule
# A constant step size is a compromise: large steps learn fast at first but keep the
# weights bouncing around the minimum at the end. A cosine schedule starts at the peak
# rate and glides down to 0 at the very last step:
#     lr(step) = PEAK_LEARNING_RATE * 0.5 * (1 + cos(pi * step / total_steps))
# The schedule must know total_steps = epochs * ceil(N / batch_size), and only train()
# knows epochs and batch_size, so train() re-compiles the model with a fresh schedule
# before calling fit. (Re-compiling restarts the optimiser; the weights are kept.)
# Measured on 2 CPU cores (TensorFlow, seed 0): a constant rate 1e-3 with 784-256-10
# needed 9 epochs at batch 128 (8.6 s) to pass 98 %. This recipe: train(model, x, y, 5, 256)
# gives 98.1 % and train(model, x, y, 6, 256) 98.2 % (about 4 s of epochs; 98 % is passed
# during epoch 4), and train(model, x, y, 10, 128) 98.4 %. The last epochs matter most:
# that is where the small steps at the end of the schedule settle the weights.


def train(
    model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int
) -> keras.callbacks.History:
    """Train `model` on images `x` with labels `y`; return the keras History.

    Arguments: model, a model from build_model() (compiled or not);
        x, uint8 numpy array, shape (N, 28, 28), raw grey levels 0..255;
        y, uint8 numpy array, shape (N,), digits 0..9;
        epochs, int, passes over the data; batch_size, int, images per gradient step.
    Result: the keras.callbacks.History returned by model.fit (verbose=0), whose
        .history["loss"] and .history["accuracy"] have one value per epoch.
    """
    # YOUR CODE HERE
    raise NotImplementedError
