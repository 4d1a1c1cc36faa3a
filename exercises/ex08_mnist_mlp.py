"""Exercise 8: your first Keras model, an MLP that reads handwritten digits (MNIST).

Everything from the earlier exercises comes together here: layers in matrix form
(h = relu(x W1 + b1)), a softmax over 10 classes, cross-entropy, and gradient descent.
This time Keras does the bookkeeping. A Keras program always has the same four steps:

    model = build_model()            1. the model: which layers, in which order
    compile_model(model)             2. compile: the loss, the optimiser, the metric
    history = model.fit(x, y, ...)   3. fit: train, one batch at a time, for some epochs
    model.evaluate(x_test, y_test)   4. evaluate: the score on images never trained on

The data: 60,000 training images and 10,000 test images of the digits 0..9, each a
28 x 28 grid of uint8 grey levels, 0 (black) to 255 (white). The grader loads them
for you; a label is a uint8 integer 0..9.

The model is a multi-layer perceptron (MLP), and nothing else (no convolutions):

    x (28, 28) uint8  ->  x / 255  ->  flatten to 784 numbers
      ->  h = relu(x W1 + b1)       W1: (784, H)   b1: (H,)
      ->  z = h W2 + b2             W2: (H, 10)    b2: (10,)     the 10 "logits"
      ->  p = softmax(z)            p_j = exp(z_j) / sum_k exp(z_k)

and it learns by lowering the cross-entropy loss = -log p_label, averaged over a batch.

The goal: at least 98.0 % of the 10,000 test images right after
train(model, x, y, EPOCHS, BATCH_SIZE), with the EPOCHS and BATCH_SIZE of this file.
The grader trains your model exactly that way and scores it on the test images.
Run `python exercises/ex08_mnist_mlp.py` to train it yourself: it prints the History
and the test accuracy, and draws the digits, the training curves and some mistakes.

The code only uses the Keras 3 API (`import keras`), so it runs unchanged on the
TensorFlow or the JAX backend (set KERAS_BACKEND before Python starts), on CPU or GPU.
"""

from __future__ import annotations

import keras
import numpy as np

# ## 1. Epochs, batches and the other numbers, named where they are used
# Training does not look at all 60,000 images at once. It cuts them into BATCHES of
# BATCH_SIZE images; for each batch it computes the loss, its gradient, and takes one
# step downhill. One EPOCH is one pass over all the training images: with
# BATCH_SIZE = 256 that is ceil(60,000 / 256) = 235 steps (the last batch holds the 96
# images left over). EPOCHS is how many passes train() makes.
# Bigger batches give smoother but fewer steps per epoch; more epochs give the model
# more steps to learn, at the cost of time.
# HIDDEN_UNITS is H above, the width of the one hidden layer; NUM_CLASSES is 10 digits.
# PEAK_LEARNING_RATE is the largest step size the optimiser takes (section 4).
# The grader reads EPOCHS and BATCH_SIZE from this file (EPOCHS at most 10, BATCH_SIZE
# 32 to 2048). With the values below, measured on 2 CPU cores with TensorFlow
# (benchmarks/RESULTS.md), the reference reaches 98.13 % on the test images after
# epoch 4 and 98.24 % after epoch 6.

HIDDEN_UNITS = 512
NUM_CLASSES = 10
PEAK_LEARNING_RATE = 2e-3
EPOCHS = 6
BATCH_SIZE = 256

# ## 2. The model: why Rescaling, then Flatten and two Dense layers
# The model takes the raw uint8 images and scales them itself with a Rescaling layer
# (x * 1/255, so every pixel is in [0, 1]). Why: Keras starts the weights W1 small and
# random, sized for inputs of about 1. Raw grey levels up to 255 would make the first
# layer's x W1 + b1 hundreds of times too large, so the first steps of training would
# overshoot wildly. Scaling inside the model means nobody can forget it: training,
# evaluate and predict all see the same 0..1 numbers.
# Flatten turns each (28, 28) image into a vector of 28 * 28 = 784 numbers.
# The last Dense layer has 10 units and NO activation: it returns logits z. The softmax is
# folded into the loss (section 3), which is more accurate than taking log(softmax(z)).
# The parameter count is 784 * 512 + 512 + 512 * 10 + 10 = 407,050; model.summary()
# prints it, layer by layer.


def build_model() -> keras.Model:
    """Build the MLP  uint8 image -> Rescaling(1/255) -> Flatten -> Dense(relu) -> Dense(10).

    Input: keras.Input(shape=(28, 28)), a batch of images, shape (batch, 28, 28), with raw
        grey levels 0..255 (uint8 or float; the model scales them itself).
    Output: float32 logits, shape (batch, 10): one score per digit; the predicted digit is
        the argmax. No convolutions, only Rescaling, Flatten and Dense layers.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# ## 3. Compile: the loss, the optimiser and the metric
# compile() tells the model how it will be trained; it computes nothing yet.
# The labels are integers 0..9, not one-hot vectors, so the loss is the *sparse*
# categorical cross-entropy: loss = -log softmax(z)_label. from_logits=True tells Keras
# that the model outputs logits z, so the loss applies the softmax itself, in a stable way
# (the log-sum-exp trick from exercise 5). With a softmax on the last layer AND
# from_logits=True, the softmax would be applied twice, and the model learns badly.
# Adam is gradient descent with a separate, adaptive step size for every weight.
# metrics=["accuracy"] reports the fraction of images whose argmax is the label.
# **SPEED_OPTIONS passes the optional switches of section 6; leave it out and nothing
# but the speed changes.


def compile_model(
    model: keras.Model,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = PEAK_LEARNING_RATE,
) -> keras.Model:
    """Compile `model` for training: Adam, sparse categorical cross-entropy, accuracy.

    Arguments: model, the keras.Model from build_model() (logits, shape (batch, 10));
        learning_rate, a float or a keras learning-rate schedule (default PEAK_LEARNING_RATE).
    Result: the same model, compiled with loss SparseCategoricalCrossentropy(from_logits=True)
        and metrics=["accuracy"] (and, if you like, the **SPEED_OPTIONS of section 6).
    """
    # YOUR CODE HERE
    raise NotImplementedError


# ## 4. Fit: training, and how to read the History
# model.fit(x, y, epochs=..., batch_size=...) runs the epochs and batches of section 1
# and returns a History. history.history is a plain dict with one list per quantity and
# one number per epoch, measured on the training images while they were learned:
#     history.history["loss"]      e.g. [0.26, 0.10, ...]   should go down
#     history.history["accuracy"]  e.g. [0.93, 0.97, ...]   should go up
# If the loss stays near 2.3 = -log(1/10), the model is guessing: look at the loss, the
# output layer and the scaling before anything else. If the accuracy still climbs at the
# last epoch, more epochs would help. Training accuracy above test accuracy is normal:
# the model has seen those images.
# A learning-rate schedule: a constant step size is a compromise, large steps learn fast
# at first but keep the weights bouncing around the minimum at the end. A cosine schedule
# starts at the peak rate and glides down to 0 at the very last step:
#     lr(step) = PEAK_LEARNING_RATE * 0.5 * (1 + cos(pi * step / total_steps))
# The schedule must know total_steps = epochs * ceil(N / batch_size), and only train()
# knows epochs and batch_size, so train() re-compiles the model with a fresh schedule
# before calling fit. (Re-compiling restarts the optimiser; the weights are kept.)


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


# ## 5. Evaluate: the score that counts
# model.evaluate(x_test, y_test) runs the 10,000 test images through the trained model
# and returns [loss, accuracy] on them (the loss and the metrics given to compile).
# The test images are never used for training, so the test accuracy says how well the
# model reads digits it has never seen. The grader computes the same accuracy itself,
# from your trained weights. model.predict(images) gives the 10 logits per image; the
# predicted digit is their argmax. The block at the bottom of this file does all this.
#
# ## 6. Optional: making training faster
# Nothing here changes what the model learns, only how fast; skip it on a first read.
# steps_per_execution=16 runs 16 batches per call into the compiled training step, which
# saves Python overhead between small batches. jit_compile=True asks for XLA compilation
# of the training step: on the TensorFlow backend it is off by default on CPU, and on
# 2 CPU cores it made each epoch about 1.5 times faster after a one-off compile
# (benchmarks/RESULTS.md: the first epoch took 1.44 s with the compile, the next ones
# 0.41 to 0.56 s; the reference passed 98 % after 3.0 s of training).

SPEED_OPTIONS = {"steps_per_execution": 16, "jit_compile": True}


if __name__ == "__main__":
    try:  # the course package: installed, or in Jupyter from the course folder
        from grader.course import pictures
        from grader.course.mnist import load_mnist
    except ImportError:  # `python exercises/ex08_mnist_mlp.py` from a clone
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from grader.course import pictures
        from grader.course.mnist import load_mnist

    x_train, y_train = load_mnist("train")
    x_test, y_test = load_mnist("test")
    print(f"training images {x_train.shape} {x_train.dtype}, test images {x_test.shape}")
    pictures.digit_grid(x_train[:24], y_train[:24], name="digits")

    keras.utils.set_random_seed(0)
    model = build_model()
    model.summary()
    history = train(model, x_train, y_train, EPOCHS, BATCH_SIZE)
    for epoch, (loss, accuracy) in enumerate(
        zip(history.history["loss"], history.history["accuracy"]), start=1
    ):
        print(f"epoch {epoch}: training loss {loss:.4f}, training accuracy {accuracy:.2%}")
    pictures.training_curves(history.history)

    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    print(f"test accuracy: {test_accuracy:.2%} (the goal is 98 %), test loss {test_loss:.4f}")

    predicted = np.argmax(model.predict(x_test, batch_size=1024, verbose=0), axis=-1)
    wrong = np.flatnonzero(predicted != y_test)
    print(f"{len(wrong)} of {len(y_test)} test images are wrong")
    shown = np.concatenate([np.arange(16), wrong[:8]])  # the first 16, then 8 mistakes
    pictures.digit_grid(x_test[shown], y_test[shown], predicted[shown], name="predictions")
