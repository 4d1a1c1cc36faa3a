"""The session's bookkeeping (checking/session.py) with real children: crashes, timeouts, the deadline.

The learner files here import nothing heavy and the child runs with KERAS_BACKEND=numpy,
so a child starts in about a second: these are unit tests of LearnerSession's rules.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import write_files

from grader.checking.session import LearnerSession
from grader.checking.submission import load_submission
from grader.course.exercises import find_exercise
from grader.engine.errors import CallTimeout, ChildCrashed, ExerciseMissing, LearnerError

EX03 = """
import os

def relu(x):
    os._exit(3)

def sigmoid(x):
    return x

def tanh(x):
    while True:
        pass

def softmax(x):
    raise ValueError("learner's own error")
"""
EX02 = """
def neuron_sum(x, w, b, activation):
    return 42
"""


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KERAS_BACKEND", "numpy")  # the child skips the TensorFlow import
    write_files(tmp_path, {find_exercise("ex03").filename: EX03, find_exercise("ex02").filename: EX02})
    with LearnerSession(load_submission(tmp_path)) as learner:
        yield learner


def test_two_crashes_skip_the_rest_of_that_exercise_only(session: LearnerSession) -> None:
    session.begin("ex03")
    with pytest.raises(ChildCrashed, match="exited with status 3"):
        session.call("ex03", "relu", 1)
    assert session.call("ex03", "sigmoid", 5) == 5, "a crash is not the next check's fault: a new child"
    with pytest.raises(ChildCrashed, match="exited with status 3"):
        session.call("ex03", "relu", 1)
    started = session.children_started
    with pytest.raises(ChildCrashed, match="stopped the program twice"):
        session.call("ex03", "sigmoid", 5)
    assert session.children_started == started, "a skipped call starts no child"
    session.begin("ex02")
    assert session.call("ex02", "neuron_sum", 1, 2, 3, None) == 42, "another exercise is not affected"


def test_a_timeout_skips_the_rest_of_that_exercise(session: LearnerSession) -> None:
    session.begin("ex03")
    begin = time.monotonic()
    with pytest.raises(CallTimeout):
        session.call("ex03", "tanh", 1, timeout=1.5)
    assert time.monotonic() - begin < 30
    started = session.children_started
    with pytest.raises(CallTimeout, match="earlier check of this exercise ran out of time"):
        session.call("ex03", "sigmoid", 5)
    assert session.children_started == started and not session.exhausted
    session.begin("ex02")
    assert session.call("ex02", "neuron_sum", 1, 2, 3, None) == 42


def test_a_learner_error_is_not_a_crash(session: LearnerSession) -> None:
    session.begin("ex03")
    for _ in range(3):
        with pytest.raises(LearnerError, match="learner's own error"):
            session.call("ex03", "softmax", 1)
    assert session.call("ex03", "sigmoid", 2) == 2
    assert session.children_started == 1


def test_a_missing_exercise_starts_no_child(session: LearnerSession) -> None:
    with pytest.raises(ExerciseMissing, match="ex05_stable_softmax"):
        session.call("ex05", "softmax", 1)
    assert session.children_started == 0


def test_a_spent_deadline_skips_calls_and_marks_the_learner_exhausted(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "numpy")
    write_files(tmp_path, {find_exercise("ex03").filename: EX03})
    with LearnerSession(load_submission(tmp_path), deadline=time.monotonic() - 1) as late:
        with pytest.raises(CallTimeout, match="time budget for this learner ran out"):
            late.call("ex03", "sigmoid", 1)
        assert late.exhausted and late.children_started == 0


def test_the_deadline_cuts_a_long_call_and_marks_the_learner_exhausted(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "numpy")
    write_files(tmp_path, {find_exercise("ex03").filename: EX03})
    with LearnerSession(load_submission(tmp_path)) as warm:  # the child's start is not the budget's
        warm.begin("ex03")
        assert warm.call("ex03", "sigmoid", 1) == 1
        warm.deadline = time.monotonic() + 2.0
        with pytest.raises(CallTimeout):
            warm.call("ex03", "tanh", 1, timeout=60)
        assert warm.exhausted
        assert time.monotonic() < warm.deadline + 15
