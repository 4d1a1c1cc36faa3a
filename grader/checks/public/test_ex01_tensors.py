"""Public checks for ex01 (tensors): the three constructors and `describe`.

Expected values come from expected_ex01.json, generated from the solutions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.checks.support import CheckFailure, array_of, brief, load_expected, show

pytestmark = pytest.mark.exercise("ex01")

EXPECTED = load_expected("ex01")


def expect_tensor(got: Any, expected: np.ndarray, what: str, dtype_kind: str, dtype: str,
                  shape_hints: dict[tuple[int, ...], str]) -> np.ndarray:
    """Shape, dtype and values of a constructor's tensor, with hints for the usual slips."""
    if isinstance(got, (list, tuple)):
        raise CheckFailure(f"{what} must return a tensor, not a Python {type(got).__name__}",
                           expected=f"a tf.Tensor of dtype {dtype}, shape {expected.shape}",
                           got=show(got), hint="wrap it: tf.constant(values, dtype=...)")
    if not isinstance(got, np.ndarray):
        raise CheckFailure(f"{what} must return a tensor", expected=f"a tf.Tensor of dtype {dtype}",
                           got=show(got), hint="did you forget a `return`?" if got is None else None)
    if got.dtype.kind not in dtype_kind:
        hint = f"pass dtype=tf.{dtype} to tf.constant"
        if got.dtype.kind in "USO" and dtype_kind == "iu":
            hint = (f"your values are strings (the characters of the digits), and tf.constant cannot "
                    f"turn a string into a number (dtype=tf.{dtype} raises TypeError): convert each "
                    f"character with int(...) BEFORE tf.constant, or convert the string tensor with "
                    f"tf.strings.to_number(..., out_type=tf.{dtype})")
        got_text = f"strings: {show(got)}" if got.dtype.kind in "USO" else f"{got.dtype}: {show(got)}"
        raise CheckFailure(f"{what} has the wrong dtype", expected=dtype, got=got_text, hint=hint)
    if got.shape != expected.shape:
        raise CheckFailure(f"{what} has the wrong shape", expected=f"shape {expected.shape}",
                           got=f"shape {got.shape}: {show(got)}",
                           hint=shape_hints.get(got.shape, f"tf.reshape(flat, {expected.shape})"))
    if got.dtype.kind in "iu" and str(got.dtype) != dtype:
        raise CheckFailure(f"{what} has the wrong dtype", expected=dtype, got=str(got.dtype),
                           hint=f"pass dtype=tf.{dtype} to tf.constant")
    if not np.array_equal(got, expected):
        wrong = tuple(int(i) for i in np.argwhere(got != expected)[0])
        hint = "fill the grid row by row: the last axis changes fastest (tf.reshape does that)"
        if expected.ndim >= 2 and np.array_equal(got, expected.reshape(-1).reshape(expected.shape, order="F")):
            hint = "you filled it column by column; tf.reshape of the flat digits fills row by row"
        elif got.dtype.kind in "iu" and got.reshape(-1)[0] != expected.reshape(-1)[0]:
            hint = "start from the very first digit (the one before the decimal point)"
        raise CheckFailure(f"{what} has the wrong values",
                           expected=f"{show(expected)}; entry {list(wrong)} is {expected[wrong]}",
                           got=f"{show(got)}; entry {list(wrong)} is {got[wrong]}", hint=hint)
    return got


@pytest.mark.points(2)
def test_make_vector(sub: Any) -> None:
    """make_vector() is the 6 characters of "tensor" as a tf.string tensor"""
    got = sub.ex01.make_vector()
    expected = np.asarray(EXPECTED["make_vector"])
    if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind == "U":
        raise CheckFailure("make_vector() returned one string, not 6 characters",
                           expected=show(expected), got=show(got),
                           hint='split the word first: tf.constant(list("tensor"))')
    expect_tensor(got, expected, "make_vector()", "U", "string", {})


@pytest.mark.points(2)
def test_make_matrix(sub: Any) -> None:
    """make_matrix() is the first 24 digits of pi as an int32 (6, 4) matrix, row by row"""
    expect_tensor(sub.ex01.make_matrix(), np.asarray(EXPECTED["make_matrix"], np.int32),
                  "make_matrix()", "iu", "int32",
                  {(4, 6): "6 rows of 4 digits: shape (6, 4), not (4, 6)",
                   (24,): "reshape the 24 digits into 6 rows of 4: tf.reshape(flat, (6, 4))"})


@pytest.mark.points(2)
def test_make_cube(sub: Any) -> None:
    """make_cube() is the first 32 digits of e as an int32 (4, 4, 2) tensor"""
    expect_tensor(sub.ex01.make_cube(), np.asarray(EXPECTED["make_cube"], np.int32),
                  "make_cube()", "iu", "int32",
                  {(2, 4, 4): "the shape is (4, 4, 2): the last axis has length 2",
                   (32,): "reshape the 32 digits: tf.reshape(flat, (4, 4, 2))"})


def check_describe(got: Any, expected: list[Any], what: str) -> None:
    """`describe` returns (rank, shape tuple, dtype name) as plain Python values."""
    rank, shape, dtype = expected[0], tuple(expected[1]), expected[2]
    shown = f"({rank}, {shape}, {dtype!r})"
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise CheckFailure(f"{what} must return a tuple of three things", expected=shown, got=show(got),
                           hint="return rank, shape, dtype_name")
    got_rank, got_shape, got_dtype = got
    if isinstance(got_rank, np.ndarray) and got_rank.ndim == 0 and got_rank.dtype.kind in "iu":
        got_rank = int(got_rank)
    if isinstance(got_shape, np.ndarray) and got_shape.ndim == 1 and got_shape.dtype.kind in "iu" \
            and got_shape.size <= 64:  # a longer "shape" is wrong anyway: never turn it into a tuple
        got_shape = tuple(int(n) for n in got_shape)
    if isinstance(got_dtype, np.ndarray) and got_dtype.ndim == 0 and got_dtype.dtype.kind == "U":
        got_dtype = str(got_dtype)  # a tf.string scalar holding the name
    if isinstance(got_shape, list):
        got_shape = tuple(got_shape)
    if type(got_rank) is not int or got_rank != rank:
        raise CheckFailure(f"{what} gave the wrong rank", expected=f"rank {rank} (as an int)",
                           got=show(got_rank),
                           hint="the rank is the number of axes: len(t.shape) or t.shape.rank")
    if not isinstance(got_shape, tuple) or got_shape != shape:
        raise CheckFailure(f"{what} gave the wrong shape", expected=f"the tuple {shape}",
                           got=show(got_shape), hint="convert the TensorShape: tuple(t.shape)")
    if not isinstance(got_dtype, str) or got_dtype != dtype:
        hint = "the name of the dtype is t.dtype.name"
        if isinstance(got_dtype, str) and dtype in got_dtype:
            hint = f"return just the name, {dtype!r}: t.dtype.name"
        raise CheckFailure(f"{what} gave the wrong dtype name", expected=repr(dtype),
                           got=show(got_dtype), hint=hint)


def _describe_case(sub: Any, name: str) -> None:
    case = EXPECTED["describe"][name]
    tensor = array_of(case["values"], case["dtype"])
    check_describe(sub.ex01.describe(tensor), case["expected"], f"describe({brief(tensor)})")


@pytest.mark.points(2)
def test_describe_matrix_and_cube(sub: Any) -> None:
    """describe() gives (rank, shape, dtype) of an int32 matrix and a float32 rank-3 tensor"""
    _describe_case(sub, "matrix")
    _describe_case(sub, "cube")


@pytest.mark.points(2)
def test_describe_scalar_and_strings(sub: Any) -> None:
    """describe() works on a rank-0 scalar, a string vector and a bool matrix"""
    _describe_case(sub, "scalar")
    _describe_case(sub, "words")
    _describe_case(sub, "flags")
