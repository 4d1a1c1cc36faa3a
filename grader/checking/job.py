"""Grading one learner as a pure job: a :class:`GradeJob` in, a :class:`LearnerResult` out.

:func:`grade_learner` depends only on its argument (paths, exercise ids, seed and
budgets), never on the batch around it, so any executor can run it: the local
process pool of :mod:`grader.instructor.batch` today, Dask workers tomorrow. It never
raises: junk, unsafe zips, learners over budget and internal errors all become a
result with a reason.

``result.json`` schema (a RunResult, see :mod:`grader.checking.outcomes`, plus)::

    {"learner": str, "source": str, "grader_version": str, "content_hash": str,
     "reason": str,                       # "" or why the learner got no grade
     "timings": {"started": str, "finished": str, "duration_s": float},
     "exercises": [...], "points": float, "max_points": float, "notes": [str]}

The hidden seed is never part of a result.
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
from grader.checking.outcomes import ExerciseResult, RunResult
from grader.checking.session import LearnerSession
from grader.checking.submission import SubmissionFiles, load_submission
from grader.course.exercises import Exercise, find_exercise
from grader.engine.child import CallTimeout
from grader.engine.launch import Limits, Policy

__all__ = ["GradeJob", "LearnerResult", "grade_learner", "kill_active_children"]

NO_FILES = ("no exercise files were found (expected names such as ex03_activations.py "
            "or ex03_activations.ipynb, at most one folder deep)")


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
        )


class _BudgetedSession(LearnerSession):
    """A session whose calls share one wall-time budget for the whole learner."""

    def __init__(self, files: SubmissionFiles, policy: Policy, deadline: float) -> None:
        super().__init__(files, policy)
        self.deadline = deadline
        self.exhausted = False

    def _clamp(self, timeout: float | None) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.exhausted = True
            raise CallTimeout("skipped: the time budget for this learner ran out")
        wanted = self.policy.limits.call_timeout_s if timeout is None else timeout
        return min(wanted, left)

    def _run(self, exercise_id: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
             timeout: float | None, tensors: bool, seed: int | None, handle: Any) -> Any:
        return super()._run(exercise_id, name, args, kwargs, self._clamp(timeout), tensors, seed, handle)

    def kill_now(self) -> None:
        """Stop the child at once (from a signal handler: no goodbye message)."""
        child = getattr(self, "_child", None)
        if child is not None:
            child.kill()


_ACTIVE: list[_BudgetedSession] = []


def kill_active_children() -> None:
    """Kill the learner child of the job running in this process, if any."""
    for session in list(_ACTIVE):
        session.kill_now()


def _run(files: SubmissionFiles, exercises: tuple[Exercise, ...], job: GradeJob,
         deadline: float) -> tuple[RunResult, bool]:
    from grader.checking.runner import RunOptions, run_checks

    limits = Limits()
    if job.call_timeout_s is not None:
        limits = replace(limits, call_timeout_s=job.call_timeout_s)
    if job.memory_mb is not None:
        limits = replace(limits, memory_mb=job.memory_mb)
    policy = Policy(isolate=True, limits=limits, warm=True)
    session = _BudgetedSession(files, policy, deadline)
    _ACTIVE.append(session)
    try:
        result = run_checks(files, exercises, RunOptions(hidden=True, seed=job.seed, policy=policy),
                            session)
        return result, session.exhausted
    finally:
        session.close()
        _ACTIVE.remove(session)


def _empty(exercises: tuple[Exercise, ...], job: GradeJob) -> RunResult:
    """Every check not attempted (so the maximum is still known); no child is started."""
    try:
        return _run(SubmissionFiles(Path(Path(job.path).name)), exercises, job, time.monotonic() + 60)[0]
    except Exception:  # noqa: BLE001 - the row still needs exercises, even without checks
        return RunResult(tuple(ExerciseResult(e.id, e.title) for e in exercises))


def grade_learner(job: GradeJob) -> LearnerResult:
    """Grade one learner's entry (folder, zip or junk); never raises."""
    started = time.time()
    deadline = time.monotonic() + job.budget_s
    exercises = tuple(find_exercise(e) for e in job.exercises)
    reason = ""
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
            reason = NO_FILES
            result = _empty(exercises, job)
        else:
            result, exhausted = _run(files, exercises, job, deadline)
            if exhausted:
                reason = f"the time budget for this learner ({job.budget_s:g} s) ran out"
    except UnsafeSubmission as exc:
        reason = str(exc)
        result = _empty(exercises, job)
    except Exception as exc:  # noqa: BLE001 - one bad learner never stops the batch
        reason = f"the grader failed on this submission ({type(exc).__name__}: {exc})"
        result = _empty(exercises, job)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return LearnerResult(job.learner, result, reason, Path(job.path).name, started, time.time(),
                         __version__, job.content_hash)
