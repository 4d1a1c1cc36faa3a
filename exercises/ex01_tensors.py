"""Exercise 1: tensors, and the three facts that describe one.

A tensor is a box of numbers (or strings) laid out on a grid. Everything a
neural network touches is a tensor: the input image, the weights, the output
scores. Before we build anything we learn to make tensors and to read their
three defining facts:

    rank   how many axes (directions) the grid has: 0 for a single number,
           1 for a list, 2 for a table, 3 for a stack of tables, ...
    shape  how long the grid is along each axis, e.g. (6, 4) for 6 rows of 4
    dtype  what kind of value sits in every cell: int32, float32, string, ...

All cells of one tensor share one dtype, and every row of a table has the
same length: a tensor is never ragged.

You will write three small constructors and one function that reports
(rank, shape, dtype) for any tensor.
"""

from __future__ import annotations

import tensorflow as tf

# ## 1. What is a tensor?
# tf.constant turns a Python value (a number, a nested list, a numpy array)
# into a tensor. The nesting depth of the list becomes the rank:
#     tf.constant(7)                 rank 0, shape ()
#     tf.constant([1, 2, 3])         rank 1, shape (3,)
#     tf.constant([[1, 2], [3, 4]])  rank 2, shape (2, 2)
# TensorFlow guesses the dtype from the values (int32 for Python ints,
# float32 for Python floats, string for Python str) unless you pass
# dtype=... yourself.

PI_DIGITS = "314159265358979323846264338327950288"
E_DIGITS = "271828182845904523536028747135266249775724709369995"


def make_vector() -> tf.Tensor:
    """Return the word "tensor" as a rank-1 tensor of single characters.

    Result: tf.Tensor, dtype tf.string, shape (6,), holding
    [b"t", b"e", b"n", b"s", b"o", b"r"].

    Hint: list("tensor") splits a Python string into its characters.
    """
    # YOUR CODE HERE
    raise NotImplementedError


# ## 2. Reshaping: the same numbers, a different grid
# A tensor's values are stored one after another in "row-major" order: the
# last axis changes fastest. tf.reshape(t, new_shape) keeps that order and
# only changes how the values are grouped, so a flat list of 24 digits
# reshaped to (6, 4) fills row 0 first (3 1 4 1), then row 1 (5 9 2 6), ...
# The number of values must match: 6 * 4 = 24.


def make_matrix() -> tf.Tensor:
    """Return the first 24 digits of pi as a 6-by-4 matrix, row by row.

    Result: tf.Tensor, dtype tf.int32, shape (6, 4):
        [[3, 1, 4, 1],
         [5, 9, 2, 6],
         ...]

    The digits are in the module constant PI_DIGITS ("3141592...").
    """
    # YOUR CODE HERE
    raise NotImplementedError


def make_cube() -> tf.Tensor:
    """Return the first 32 digits of e as a 4-by-4-by-2 tensor (rank 3).

    Result: tf.Tensor, dtype tf.int32, shape (4, 4, 2), filled in row-major
    order: element [0, 0, 0] is 2, [0, 0, 1] is 7, [0, 1, 0] is 1, ...

    The digits are in the module constant E_DIGITS ("2718281828...").
    """
    # YOUR CODE HERE
    raise NotImplementedError


# ## 3. Reading a tensor's rank, shape and dtype
# Every tensor carries its description with it:
#     t.shape        a TensorShape, e.g. TensorShape([6, 4]);
#                    tuple(t.shape) gives (6, 4), and len(t.shape) the rank
#     t.shape.rank   the rank as a Python int (tf.rank(t) gives it as a tensor)
#     t.dtype        a tf.DType such as tf.int32; t.dtype.name is "int32"
# The grader compares plain Python values, so convert: int for the rank,
# a tuple of ints for the shape and a str for the dtype.


def describe(tensor: tf.Tensor) -> tuple[int, tuple[int, ...], str]:
    """Return (rank, shape, dtype name) of a tensor, as plain Python values.

    Argument: tensor, a tf.Tensor of any rank and dtype.
    Result: a tuple (rank, shape, dtype_name) where
        rank        int, the number of axes (0 for a scalar)
        shape       tuple of ints, one length per axis (() for a scalar)
        dtype_name  str, e.g. "int32", "float32" or "string"

    Example: describe(make_matrix()) == (2, (6, 4), "int32").
    """
    # YOUR CODE HERE
    raise NotImplementedError


if __name__ == "__main__":
    for name, tensor in [
        ("vector", make_vector()),
        ("matrix", make_matrix()),
        ("cube", make_cube()),
    ]:
        print(name, describe(tensor))
        print(tensor.numpy())
