"""Grading one learner as a pure job: a :class:`GradeJob` in, a :class:`LearnerResult` out.

:func:`grade_learner` depends only on its argument (paths, exercise ids, seed and
budgets), never on the batch around it, so any executor can run it: the local
process pool of :mod:`grader.instructor.batch` today, Dask workers tomorrow. It never
raises: junk, unsafe zips, learners over budget and internal errors all become a
result with a reason.

``result.json`` schema (a RunResult, see :mod:`grader.checking.outcomes`, plus)::

    {"learner": str, "source": str, "grader_version": str, "content_hash": str,
     "reason": str,                       # "" or why the learner got no grade
     "grading": "graded" | "ungraded" | "grader_error",   # see outcomes.Grading
     "timings": {"started": str, "finished": str, "duration_s": float},
     "exercises": [...], "points": float, "max_points": float, "notes": [str]}

The hidden seed is never part of a result.

A failure of the grader's own side (its zygote gone or silent, a crash of our code
outside the learner's calls) is retried once on a fresh zygote; if it fails again the
learner gets a ``grader_error`` result, which is no score (see :class:`Grading`).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader import __version__
from grader.checking.archive import UnsafeSubmission, extract_zip
from grader.checking.outcomes import ExerciseResult, Grading, RunResult
from grader.checking.session import LearnerSession
from grader.checking.submission import SubmissionFiles, load_submission
from grader.course.exercises import Exercise, find_exercise
from grader.engine.errors import GraderFailure
from grader.engine.launch import Limits, Policy
from grader.engine.zygote import close_zygotes

__all__ = ["grading_policy", "GradeJob", "LearnerResult", "grade_learner", "kill_active_children", "ungraded",
           "default_budget", "BUDGET_BASE_S", "BUDGET_PER_EXERCISE_S"]

NO_FILES = ("no exercise files were found (expected names such as ex03_activations.py "
            "or ex03_activations.ipynb, at most one folder deep)")
BUDGET_BASE_S = 60.0
BUDGET_PER_EXERCISE_S = 120.0


def default_budget(exercise_count: int) -> float:
    """The one rule for a learner's wall-time budget: a base plus so much per exercise."""
    return BUDGET_BASE_S + BUDGET_PER_EXERCISE_S * exercise_count


@dataclass(frozen=True)
class GradeJob:
    """Everything needed to grade one learner; plain data, so it pickles to any worker."""

    learner: str
    path: str
    kind: str  # "folder" | "zip" | "junk"
    work_dir: str  # where a zip may be unpacked (inside OUT); removed afterwards
    exercises: tuple[str, ...]
    seed: int
    budget_s: float
    call_timeout_s: float | None = None
    memory_mb: int | None = None
    reason: str = ""
    content_hash: str = ""


@dataclass(frozen=True)
class LearnerResult:
    """One learner's grade: the engine's result plus who, when, and why not (if so)."""

    learner: str
    result: RunResult
    reason: str = ""
    source: str = ""
    started: float = 0.0
    finished: float = 0.0
    grader_version: str = __version__
    content_hash: str = ""
    grading: Grading = Grading.GRADED

    @property
    def duration_s(self) -> float:
        return round(max(self.finished - self.started, 0.0), 3)

    def to_dict(self) -> dict[str, Any]:
        def stamp(t: float) -> str:
            return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")

        return {
            "learner": self.learner,
            "source": self.source,
            "grader_version": self.grader_version,
            "content_hash": self.content_hash,
            "reason": self.reason,
            "grading": self.grading.value,
            "timings": {"started": stamp(self.started), "finished": stamp(self.finished),
                        "duration_s": self.duration_s},
            **self.result.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearnerResult:
        timings = data.get("timings", {})

        def epoch(text: str | None) -> float:
            return datetime.fromisoformat(text).timestamp() if text else 0.0

        started = epoch(timings.get("started"))
        return cls(
            learner=data["learner"],
            result=RunResult.from_dict(data),
            reason=data.get("reason", ""),
            source=data.get("source", ""),
            started=started,
            finished=started + float(timings.get("duration_s", 0.0)),
            grader_version=data.get("grader_version", ""),
            content_hash=data.get("content_hash", ""),
            grading=Grading(data.get("grading", Grading.GRADED.value)),
        )


_ACTIVE: list[LearnerSession] = []


def kill_active_children() -> None:
    """Kill the learner child of the job running in this process, if any."""
    for session in list(_ACTIVE):
        session.kill_now()


def grading_policy(call_timeout_s: float | None, memory_mb: int | None) -> Policy:
    """The one sandbox policy of batch grading (also the key of a worker's warm zygote)."""
    limits = Limits()
    if call_timeout_s is not None:
        limits = replace(limits, call_timeout_s=call_timeout_s)
    if memory_mb is not None:
        limits = replace(limits, memory_mb=memory_mb)
    return Policy(isolate=True, limits=limits, warm=True)


def _run(files: SubmissionFiles, exercises: tuple[Exercise, ...], job: GradeJob,
         deadline: float) -> tuple[RunResult, LearnerSession]:
    """The checks of one learner; raises GraderFailure when the grader's own side failed."""
    from grader.checking.runner import RunOptions, run_checks

    policy = grading_policy(job.call_timeout_s, job.memory_mb)
    session = LearnerSession(files, policy, deadline=deadline)
    _ACTIVE.append(session)
    try:
        result = run_checks(files, exercises, RunOptions(hidden=True, seed=job.seed, policy=policy),
                            session)
    finally:
        session.close()
        _ACTIVE.remove(session)
    if session.grader_failure:
        raise GraderFailure(session.grader_failure)
    return result, session


def _not_attempted(exercises: tuple[Exercise, ...], job: GradeJob) -> RunResult:
    """Every check not attempted (so the maximum is still known); no child is started."""
    try:
        empty = SubmissionFiles(Path(Path(job.path).name))
        return _run(empty, exercises, job, time.monotonic() + 60)[0]
    except Exception:  # noqa: BLE001 - the row still needs exercises, even without checks
        return RunResult(tuple(ExerciseResult(e.id, e.title) for e in exercises))


def ungraded(job: GradeJob, reason: str, started: float | None = None,
             grading: Grading = Grading.UNGRADED) -> LearnerResult:
    """The one "no grade" result: every check not attempted, 0 points, and the reason."""
    exercises = tuple(find_exercise(e) for e in job.exercises)
    now = time.time()
    return LearnerResult(job.learner, _not_attempted(exercises, job), reason, Path(job.path).name,
                         started or now, now, __version__, job.content_hash, grading)


def _grade_once(job: GradeJob, exercises: tuple[Exercise, ...],
                deadline: float) -> tuple[RunResult, str, Grading]:
    """(result, reason, grading) of one attempt; raises GraderFailure for a failure on our side."""
    work = Path(job.work_dir)
    try:
        if job.kind == "junk":
            raise UnsafeSubmission(job.reason or "not a folder or a .zip file")
        folder = Path(job.path)
        if job.kind == "zip":
            shutil.rmtree(work, ignore_errors=True)
            folder = extract_zip(folder, work)
        # Feedback names the learner's own entry, never a folder of the instructor's machine.
        files = replace(load_submission(folder), root=Path(Path(job.path).name))
        if not files.files and not files.problems:
            return _not_attempted(exercises, job), NO_FILES, Grading.UNGRADED
        result, session = _run(files, exercises, job, deadline)
        if session.exhausted:
            reason = f"the time budget for this learner ({job.budget_s:g} s) ran out"
            return result, reason, Grading.GRADED
        return result, "", Grading.GRADED
    except UnsafeSubmission as exc:
        return _not_attempted(exercises, job), str(exc), Grading.UNGRADED
    except GraderFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - our own code failed: the learner is not to blame
        raise GraderFailure(f"the grader failed on this submission ({type(exc).__name__}: {exc})") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def grade_learner(job: GradeJob) -> LearnerResult:
    """Grade one learner's entry (folder, zip or junk); never raises.

    A grader-side failure is retried once with a fresh zygote (and the rest of the
    learner's budget); a second one gives a ``grader_error`` result, never a score.
    """
    started = time.time()
    deadline = time.monotonic() + job.budget_s
    exercises = tuple(find_exercise(e) for e in job.exercises)
    failure = ""
    for _attempt in range(2):
        try:
            result, reason, grading = _grade_once(job, exercises, deadline)
        except GraderFailure as exc:
            failure = str(exc)
            close_zygotes()  # the next attempt (or learner) starts a fresh zygote
            continue
        return LearnerResult(job.learner, result, reason, Path(job.path).name, started, time.time(),
                             __version__, job.content_hash, grading)
    return ungraded(job, f"grader error, not a grade: {failure}; the learner is graded again on the "
                         "next run of `grader grade`", started, Grading.GRADER_ERROR)
