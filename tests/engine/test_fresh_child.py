"""A fresh child per exercise: nothing an exercise's code does reaches the next exercise's checks.

An attacker's ex03 records every input its functions get (so also the hidden checks'
inputs) in every place a process can: a module global, ``os.environ``, a ``sys.modules``
entry, files in ``/tmp``, ``/dev/shm`` and its working directory. Its ex04 then raises
whatever it finds in an error message, which public feedback shows. Each child must
start from nothing, so ex04 finds nothing. The learner still gets all of their own
sources in every child: an honest ex07 that imports the learner's ex06 keeps full marks.
"""

from __future__ import annotations

import time
from pathlib import Path

from helpers import solution_source

from grader.checking.job import GradeJob, grade_learner
from grader.checking.runner import RunOptions, hidden_seed, run_checks
from grader.checking.session import LearnerSession
from grader.checking.submission import load_submission
from grader.course.exercises import find_exercise
from grader.engine.child import CallTimeout
from grader.engine.launch import Limits, Policy

STASH = '''

# ---- attacker: remember every input, everywhere a process can keep something
import os as _os
import sys as _sys
import types as _types

import numpy as _np

_SEEN = []


def _remember(value):
    text = "x" + ",".join(f"{v:.6f}" for v in _np.asarray(value, dtype="float64").ravel()[:4])
    _SEEN.append(text)
    _os.environ["STASHED_INPUTS"] = _os.environ.get("STASHED_INPUTS", "") + text + ";"
    _sys.modules.setdefault("stashed_inputs", _types.ModuleType("stashed_inputs")).__dict__.setdefault(
        "seen", []).append(text)
    for place in ("/tmp/stashed_inputs.txt", "/dev/shm/stashed_inputs.txt", "stashed_inputs.txt",
                  _os.path.expanduser("~/stashed_inputs.txt")):
        try:
            with open(place, "a") as f:
                f.write(text + ";")
        except OSError:
            pass


def _spy(function):
    def spied(x, *args, **kwargs):
        _remember(x)
        return function(x, *args, **kwargs)
    return spied


sigmoid, tanh, relu, softmax = _spy(sigmoid), _spy(tanh), _spy(relu), _spy(softmax)
'''

RAISE = '''

# ---- attacker: raise whatever an earlier exercise left behind
def _found():
    import os
    import sys
    found = []
    ex03 = sys.modules.get("ex03_activations")
    found += list(getattr(ex03, "_SEEN", []))
    found += [os.environ.get("STASHED_INPUTS", "")]
    found += list(getattr(sys.modules.get("stashed_inputs"), "seen", []))
    for place in ("/tmp/stashed_inputs.txt", "/dev/shm/stashed_inputs.txt", "stashed_inputs.txt",
                  os.path.expanduser("~/stashed_inputs.txt")):
        try:
            found.append(open(place).read())
        except OSError:
            pass
    return "|".join(f for f in found if f)


def dense(x, W, b, activation):
    raise ValueError("STASH[" + _found() + "]")
'''


def _attacker(folder: Path) -> Path:
    folder.mkdir()
    (folder / "ex03_activations.py").write_text(solution_source("ex03") + STASH)
    (folder / "ex04_layers.py").write_text(solution_source("ex04") + RAISE)
    return folder


def test_hidden_inputs_recorded_by_ex03_never_reach_ex04_feedback(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_API_GUARD", "0")  # the spy uses sys.modules: let it really run
    folder = _attacker(tmp_path / "mallory")
    job = GradeJob("mallory", str(folder), "folder", str(tmp_path / "work"), ("ex03", "ex04"), 1234,
                   budget_s=300.0)
    result = grade_learner(job)
    ex03, ex04 = result.result.exercises
    assert ex03.points == ex03.max_points > 0  # the spying ex03 ran every check, hidden ones too
    raised = [t.feedback for t in ex04.tests if "STASH[" in t.feedback]
    assert raised, "the attacker's ex04 never raised: the test proves nothing"
    leaked = [f for f in raised if "STASH[]" not in f]
    assert not leaked, f"inputs recorded by ex03 reached ex04's feedback: {leaked[0][:300]}"


def test_each_exercise_gets_its_own_child_and_all_the_learners_sources(tmp_path):
    folder = tmp_path / "honest"
    folder.mkdir()
    for exercise in ("ex01", "ex06", "ex07"):  # ex07 imports the learner's ex06
        (folder / find_exercise(exercise).filename).write_text(solution_source(exercise))
    exercises = tuple(find_exercise(e) for e in ("ex01", "ex06", "ex07"))
    policy = Policy(isolate=True, warm=True)
    with LearnerSession(load_submission(folder), policy) as session:
        result = run_checks(session.files, exercises, RunOptions(hidden=True, seed=5, policy=policy),
                            session)
        assert session.children_started == len(exercises)
    for exercise in result.exercises:
        assert exercise.points == exercise.max_points > 0, exercise.id


def test_the_deadline_is_a_session_parameter(tmp_path):
    folder = tmp_path / "late"
    folder.mkdir()
    (folder / "ex01_tensors.py").write_text(solution_source("ex01"))
    files = load_submission(folder)
    session = LearnerSession(files, Policy(limits=Limits(call_timeout_s=5.0)),
                             deadline=time.monotonic() - 1)
    try:
        session.call("ex01", "make_vector")
    except CallTimeout as exc:
        assert "time budget" in str(exc)
    else:
        raise AssertionError("a call after the deadline ran")
    assert session.exhausted and session.children_started == 0
    session.close()


def test_one_hidden_seed_rule(monkeypatch):
    monkeypatch.setenv("GRADER_SEED", "77")
    assert hidden_seed(5, "9") == (5, "--seed")
    assert hidden_seed(None, "9")[0] == 77
    monkeypatch.delenv("GRADER_SEED")
    assert hidden_seed(None, "9")[0] == 9
    seeds = {hidden_seed()[0] for _ in range(4)}
    assert len(seeds) > 1  # random each run when nothing fixes it
