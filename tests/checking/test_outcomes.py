"""The result model and the one function that turns an exception into an outcome."""

from __future__ import annotations

import json

from grader.checking.feedback import CheckFailure
from grader.checking.outcomes import ExerciseResult, RunResult, Status, TestResult
from grader.checking.runner import outcome_for
from grader.checking.session import ExerciseMissing
from grader.course.mnist import DatasetError
from grader.engine.child import CallTimeout, ChildCrashed, LearnerError, readable_message


def test_each_exception_has_its_outcome_and_words():
    cases = [
        (None, Status.PASSED, ""),
        (CheckFailure("softmax rows must sum to 1", expected="1", got="1.73", hint="axis"), Status.FAILED,
         "rows must sum to 1"),
        (AssertionError(), Status.FAILED, "the check failed"),
        (LearnerError("NotImplementedError", "", [], "call"), Status.NOT_ATTEMPTED, "not attempted"),
        (ExerciseMissing("no ex03_activations.py"), Status.NOT_ATTEMPTED, "no ex03_activations.py"),
        (LearnerError("ValueError", "bad", ['File "ex03_activations.py", line 3'], "call"), Status.ERROR,
         "your code raised ValueError: bad"),
        (LearnerError("SyntaxError", "invalid syntax", [], "import"), Status.ERROR, "could not be imported"),
        (LearnerError("MissingFunction", "softmax", [], "import"), Status.ERROR, "no function `softmax`"),
        (CallTimeout("ex03.relu"), Status.TIMEOUT, "did not finish in time"),
        (ChildCrashed("a crash (segmentation fault)"), Status.ERROR, "segmentation fault"),
        (TypeError("odd"), Status.ERROR, "could not check this result"),
        (DatasetError("set MNIST_DIR"), Status.ERROR, "needs the MNIST data"),
    ]
    for exc, status, words in cases:
        got_status, feedback = outcome_for(exc)
        assert got_status is status, (exc, got_status)
        assert words in feedback, (exc, feedback)


def test_tensorflow_decoration_is_cut_from_learner_messages():
    raw = ("{{function_node __wrapped__Sub_device_/job:localhost/replica:0/task:0/device:CPU:0}} "
           "Incompatible shapes: [32,2] vs. [2,32] [Op:Sub] name: ")
    assert readable_message(raw) == "Incompatible shapes: [32,2] vs. [2,32]"
    assert readable_message("plain words") == "plain words"


def test_results_round_trip_through_json_and_statuses_add_up():
    tests = (
        TestResult("ex03", "relu", "public", 2.0, 2.0, Status.PASSED),
        TestResult("ex03", "softmax", "hidden", 0.0, 3.0, Status.FAILED, "wrong axis", 0.1),
    )
    run = RunResult((ExerciseResult("ex03", "Activations", tests),))
    again = RunResult.from_dict(json.loads(json.dumps(run.to_dict())))
    assert again == run
    assert run.points == 2.0 and run.max_points == 5.0 and not run.all_passed
    assert run.exercises[0].status is Status.FAILED
    assert ExerciseResult("ex01", "t").status is Status.NOT_ATTEMPTED
    assert not RunResult().all_passed  # nothing ran: not "all good"
