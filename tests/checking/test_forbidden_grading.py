"""Forbidden APIs through the real grader: cheats lose the points, self-checks cost nothing.

Issue 9, findings 3, 7 and 8, and issue 11 bug 4: each case grades a real file in a real child.
"""

from __future__ import annotations

from helpers import apply_mistake, failed_feedback, feedback_of, solution_source

from grader.checking.outcomes import Status

EX03_MAIN = '''
if __name__ == "__main__":
    scores = tf.constant([[-2.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    assert np.allclose(softmax(scores), tf.nn.softmax(scores), atol=1e-6)
    assert np.allclose(sigmoid(scores), tf.math.sigmoid(scores), atol=1e-6)
'''
SELF_TEST = '''

def _self_test():
    scores = tf.constant([[-2.0, 0.0, 3.0]])
    return tf.nn.softmax(scores), tf.tanh(scores), tf.nn.relu(scores)
'''


def with_self_checks(exercise_id: str, main: str) -> str:
    source = solution_source(exercise_id)
    head, _, _ = source.partition('\nif __name__ == "__main__":')
    return head.rstrip() + "\n\nimport numpy as np  # noqa: E402\n" + SELF_TEST + main


def full_marks(result) -> bool:
    return result.points == result.max_points and all(t.status is Status.PASSED for t in result.tests)


def test_ex03_self_checks_in_main_and_unreached_helper_keep_full_marks(grade):
    result = grade("ex03", with_self_checks("ex03", EX03_MAIN))
    assert full_marks(result), feedback_of(result)


def test_ex06_gradient_tape_self_check_in_main_keeps_full_marks(grade):
    main = '''
if __name__ == "__main__":
    params = {"W1": tf.ones((3, 4)), "b1": tf.zeros(4), "W2": tf.ones((4, 2)), "b2": tf.zeros(2)}
    x = tf.ones((5, 3))
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss, cache = forward(params, x, tf.constant([0, 1, 1, 0, 1]))
    print(tape.gradient(loss, params), backward(params, cache))
'''
    result = grade("ex06", with_self_checks("ex06", main))
    assert full_marks(result), feedback_of(result)


def test_ex03_softmax_through_a_for_loop_alias_is_caught(grade):
    source = apply_mistake(solution_source("ex03"), (
        "    return exponentials / tf.reduce_sum(exponentials, axis=-1, keepdims=True)",
        "    for lib in [tf]:\n        return lib.nn.softmax(x)"))
    result = grade("ex03", source)
    assert "tf.nn.softmax" in failed_feedback(result, "softmax of a (3, 4) batch")
    assert result.points < result.max_points


def test_ex03_softmax_from_another_exercise_file_is_caught(grade):
    ex04 = "import tensorflow as tf\n\n\ndef ready_softmax(x):\n    return tf.nn.softmax(x)\n"
    source = solution_source("ex03") + "\n\nfrom ex04_layers import ready_softmax as softmax  # noqa\n"
    result = grade("ex03", source, extra={"ex04": ex04})
    assert "ex04_layers.py uses tf.nn.softmax" in failed_feedback(result, "softmax of a (3, 4) batch")


def test_ex03_exec_in_the_graded_function_is_explained(grade):
    source = apply_mistake(solution_source("ex03"), (
        "    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)",
        "    scope = {'x': x}\n    exec('import tensorflow as t\\ny = t.nn.softmax(x)', scope)\n"
        "    return scope['y']\n    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)"))
    feedback = failed_feedback(grade("ex03", source), "softmax of a (3, 4) batch")
    assert "exec" in feedback and "can't check" in feedback


def test_ex06_gradient_tape_through_a_default_argument_is_caught(grade):
    source = solution_source("ex06").replace(
        "def backward(params: dict[str, tf.Tensor], cache: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:",
        "def backward(params, cache, lib=tf):\n    lib.GradientTape\n")
    result = grade("ex06", source)
    assert "tf.GradientTape" in failed_feedback(result, "without GradientTape")


def test_ex05_deep_expression_keeps_full_marks(grade):
    deep = "\n\nUNUSED_TOTAL = " + "+".join(["1"] * 600) + "\n"
    result = grade("ex05", solution_source("ex05") + deep)
    assert full_marks(result), feedback_of(result)


def test_ex05_20000_term_expression_keeps_full_marks(grade):
    deep = "\n\nUNUSED_TOTAL = " + "+".join(["1"] * 20000) + "\n"
    result = grade("ex05", solution_source("ex05") + deep)
    assert full_marks(result), feedback_of(result)


def test_the_childs_tripwire_catches_what_static_analysis_misses(grade):
    # map() hands tf to a helper: the static analysis does not follow arguments through
    # library calls, but the ready-made softmax records its use while the graded call runs.
    source = apply_mistake(solution_source("ex03"), (
        "    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)",
        "    return list(map(_apply, [tf], [x]))[0]\n    shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)"))
    source += "\n\ndef _apply(lib, x):\n    return lib.nn.softmax(x)\n"
    from grader.checking.forbidden import assert_allowed

    assert_allowed(source, ["tensorflow.nn"], "softmax")  # the static analysis really misses it
    feedback = failed_feedback(grade("ex03", source), "softmax of a (3, 4) batch")
    assert "while softmax ran, it called tf.nn.softmax" in feedback


def test_ex06_gradient_tape_through_map_is_caught_by_the_tripwire(grade):
    source = solution_source("ex06").replace(
        "def backward(params: dict[str, tf.Tensor], cache: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:",
        "def _tape(lib):\n    return lib.GradientTape()\n\n\n"
        "def backward(params: dict[str, tf.Tensor], cache: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:\n"
        "    list(map(_tape, [tf]))")
    assert "list(map(_tape" in source
    result = grade("ex06", source)
    assert "while backward ran, it called tf.GradientTape" in failed_feedback(result, "dW2 and db2")
