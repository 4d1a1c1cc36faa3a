"""The op-level trip-wire (issue 9): a graded softmax whose trace holds a Softmax op loses the points.

The evasions here hide the ready-made op from the static analysis (a function handed
through map(), or the guard turned off as the hostile suite does) and from the Python
trip-wire (tf.raw_ops is not a watched function); the child's trace still holds the op.
Honest code, traceable or not, keeps full marks.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import apply_mistake, failed_feedback, feedback_of, solution_source

from grader.checking.outcomes import Status

EX03_SOFTMAX_BODY = "    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)"
EX05_LOG_SOFTMAX_BODY = "    return shifted - tf.math.log(tf.reduce_sum(tf.exp(shifted), axis=-1, keepdims=True))"


def full_marks(result) -> bool:
    return result.points == result.max_points and all(t.status is Status.PASSED for t in result.tests)


def through_map(source: str, line: str, helper_body: str, indent: str = "    ") -> str:
    """`source` whose line `line` first returns a helper's value, handed tf through map()."""
    source = apply_mistake(source, (line, f"{indent}return list(map(_apply, [tf], [x]))[0]\n{line}"))
    return source + f"\n\ndef _apply(lib, x):\n    return {helper_body}\n"


def test_opcheck_sees_the_op_behind_every_spelling_and_none_in_honest_code():
    tf = pytest.importorskip("tensorflow")
    from grader.engine.inside.opcheck import READY_MADE, ops_used

    x = tf.constant(np.arange(12, dtype=np.float32).reshape(3, 4))

    def honest(v):
        e = tf.exp(v - tf.reduce_max(v, axis=-1, keepdims=True))
        return e / tf.reduce_sum(e, axis=-1, keepdims=True)

    @tf.function
    def nested(v):  # the learner's own tf.function: the op sits in the graph's library
        return tf.raw_ops.Softmax(logits=v)

    def untraceable(v):
        return np.exp(v.numpy()) / np.exp(v.numpy()).sum(-1, keepdims=True)

    assert ops_used(honest, (x,), {}, READY_MADE) == set()
    assert ops_used(lambda v: tf.raw_ops.Softmax(logits=v), (x,), {}, READY_MADE) == {"Softmax"}
    assert ops_used(nested, (x,), {}, READY_MADE) == {"Softmax"}
    assert ops_used(lambda v: tf.keras.activations.softmax(v), (x,), {}, READY_MADE) == {"Softmax"}
    assert ops_used(lambda v: tf.nn.log_softmax(v), (x,), {}, READY_MADE) == {"LogSoftmax"}
    assert ops_used(untraceable, (x,), {}, READY_MADE) == set()  # can't trace: never punished


def test_ex03_raw_softmax_through_map_is_caught_by_its_op(grade):
    source = through_map(solution_source("ex03"), EX03_SOFTMAX_BODY, "lib.raw_ops.Softmax(logits=x)")
    from grader.checking.forbidden import assert_allowed
    from grader.checks.public.test_ex03_activations import BANNED

    assert_allowed(source, BANNED, "softmax")  # the static analysis really misses it
    result = grade("ex03", source)
    feedback = failed_feedback(result, "softmax of a (3, 4) batch")
    assert "ready-made Softmax operation (what tf.nn.softmax computes)" in feedback
    assert "tf.exp" in feedback  # what to write instead
    assert result.points < result.max_points
    sigmoid = [t for t in result.tests if t.name.startswith("sigmoid")]
    assert sigmoid and all(t.status is Status.PASSED for t in sigmoid)  # only softmax pays


def test_ex03_raw_sigmoid_with_the_static_guard_off_is_caught(grade, monkeypatch):
    monkeypatch.setenv("GRADER_API_GUARD", "0")
    source = apply_mistake(solution_source("ex03"), (
        "    return 1.0 / (1.0 + tf.exp(-x))", "    return tf.raw_ops.Sigmoid(x=x)"))
    feedback = failed_feedback(grade("ex03", source), "sigmoid(x) = 1 / (1 + exp(-x))")
    assert "ready-made Sigmoid operation" in feedback


def test_ex05_raw_log_softmax_through_map_with_the_static_guard_off_is_caught(grade, monkeypatch):
    monkeypatch.setenv("GRADER_API_GUARD", "0")
    source = through_map(solution_source("ex05"), EX05_LOG_SOFTMAX_BODY, "lib.raw_ops.LogSoftmax(logits=x)")
    result = grade("ex05", source)
    assert "ready-made LogSoftmax operation" in failed_feedback(result, "log_softmax([1000, -1000])")
    assert result.points < result.max_points


def test_solutions_and_an_untraceable_honest_softmax_keep_full_marks(grade):
    for exercise_id in ("ex03", "ex05"):
        result = grade(exercise_id, solution_source(exercise_id))
        assert full_marks(result), feedback_of(result)
    numpy_softmax = apply_mistake(solution_source("ex03"), (
        EX03_SOFTMAX_BODY,
        "    e = np.exp(x.numpy() - x.numpy().max(axis=-1, keepdims=True))\n"
        "    return tf.constant(e / e.sum(axis=-1, keepdims=True))\n" + EX03_SOFTMAX_BODY))
    numpy_softmax = numpy_softmax.replace("import tensorflow as tf\n", "import numpy as np\nimport tensorflow as tf\n", 1)
    result = grade("ex03", numpy_softmax)
    assert full_marks(result), feedback_of(result)
