"""The ex01 checks (tensors): the solution passes, the stub is not attempted,
and typical mistakes fail with feedback that names them."""

from __future__ import annotations

from helpers import apply_mistake, failed_feedback, feedback_of, solution_source, stub_source

from grader.checking.outcomes import Status

SOLUTION = solution_source("ex01")


def mistake(*replacements: tuple[str, str]) -> str:
    return apply_mistake(SOLUTION, *replacements)


feedback = failed_feedback


def test_solution_gets_full_marks(grade):
    result = grade("ex01", SOLUTION)
    assert result.points == result.max_points == 15, feedback_of(result)
    assert all(t.status is Status.PASSED for t in result.tests)
    assert {t.visibility for t in result.tests} == {"public", "hidden"}


def test_stub_is_not_attempted(grade):
    result = grade("ex01", stub_source("ex01"))
    assert result.points == 0 and result.status is Status.NOT_ATTEMPTED
    assert all(t.status is Status.NOT_ATTEMPTED for t in result.tests), feedback_of(result)


def test_one_string_column_order_float_dtype_and_tensorshape_are_named(grade):
    result = grade("ex01", mistake(
        ('return tf.constant(characters, dtype=tf.string)', 'return tf.constant("tensor")'),
        ("return tf.reshape(flat, (6, 4))", "return tf.transpose(tf.reshape(flat, (4, 6)))"),
        ("flat = tf.constant(digits, dtype=tf.int32)\n    return tf.reshape(flat, (4, 4, 2))",
         "flat = tf.constant(digits, dtype=tf.float32)\n    return tf.reshape(flat, (4, 4, 2))"),
        ("return rank, shape, dtype_name", "return rank, tensor.shape, dtype_name"),
    ))
    text = feedback(result, "make_vector")
    assert "one string" in text and 'list("tensor")' in text
    assert "column by column" in feedback(result, "make_matrix")
    text = feedback(result, "make_cube")
    assert "wrong dtype" in text and "int32" in text and "float32" in text
    text = feedback(result, "describe() gives")
    assert "TensorShape" in text and "tuple(t.shape)" in text


def test_wrong_shape_and_dtype_repr_are_named(grade):
    result = grade("ex01", mistake(
        ("return tf.reshape(flat, (4, 4, 2))", "return tf.reshape(flat, (2, 4, 4))"),
        ("dtype_name = tensor.dtype.name", "dtype_name = str(tensor.dtype)"),
        ("rank = int(tensor.shape.rank)", "rank = int(tensor.shape[0]) if tensor.shape.rank else 0"),
    ))
    text = feedback(result, "make_cube")
    assert "shape (4, 4, 2)" in text and "shape (2, 4, 4)" in text and "last axis" in text
    text = feedback(result, "describe() gives")
    assert "rank" in text and "number of axes" in text
    text = feedback(result, "rank-0 scalar")
    assert "<dtype: 'float32'>" in text and "t.dtype.name" in text
    assert result.points == 2 + 2  # make_vector and make_matrix still earn their points


def test_string_tensors_are_shown_as_string_not_numpy_codes(grade):
    result = grade("ex01", mistake(("return tf.constant(characters, dtype=tf.string)",
                                    "return tf.constant(characters[:5], dtype=tf.string)")),
                   hidden=False)
    text = failed_feedback(result, "make_vector")
    assert "string)" in text and "<U" not in text, text
