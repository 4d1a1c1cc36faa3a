"""Run the course's checks (pytest, in this trusted process) against one learner's files.

The checks live in `grader/checks/public` and `grader/checks/hidden`. They get a
`sub` fixture (a :class:`~grader.checking.session.LearnerSession`) and, for hidden checks,
a `hidden_rng` drawn from a seed the learner never sees.
"""

from __future__ import annotations

import os
import secrets
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.checking.outcomes import ExerciseResult, RunResult, Status, TestResult
from grader.checking.printed import output_mark, printed_since
from grader.checking.session import LearnerSession
from grader.checking.submission import SubmissionFiles
from grader.checking.translate import explain
from grader.course.exercises import EXERCISES, Exercise
from grader.course.mnist import DatasetError
from grader.engine.errors import CallTimeout, ChildCrashed, ExerciseMissing, GraderFailure, LearnerError
from grader.engine.launch import Policy

__all__ = ["run_checks", "outcome_for", "CHECKS_DIR", "RunOptions", "check_files", "collect_points",
           "hidden_seed", "SEED_ENV", "visibility_of"]

CHECKS_DIR = Path(__file__).resolve().parent.parent / "checks"
SEED_ENV = "GRADER_SEED"


@dataclass(frozen=True)
class RunOptions:
    """What to run: which visibilities, with which hidden seed and defences."""

    hidden: bool = False
    seed: int | None = None
    policy: Policy = field(default_factory=Policy)


def visibility_of(check_file: Path) -> str:
    """"hidden" or "public": the check's folder inside the checks package, never the install path."""
    relative = check_file.resolve().relative_to(CHECKS_DIR.resolve())
    return "hidden" if relative.parts[0] == "hidden" else "public"


def check_files(exercise: Exercise, hidden: bool) -> list[Path]:
    """The check modules for one exercise that exist in this installation."""
    visibilities = ("public", "hidden") if hidden else ("public",)
    return [
        path
        for visibility in visibilities
        for path in sorted((CHECKS_DIR / visibility).glob(f"test_{exercise.id}*.py"))
    ]


def outcome_for(exc: BaseException | None, name: str = "") -> tuple[Status, str]:
    """The one place where an exception raised during a check becomes an outcome."""
    if exc is None:
        return Status.PASSED, ""
    if isinstance(exc, ExerciseMissing):
        return Status.NOT_ATTEMPTED, f"not attempted: {exc}"
    if isinstance(exc, LearnerError):
        where = ("\n" + "\n".join(exc.traceback)) if exc.traceback else ""
        if exc.type_name == "NotImplementedError":
            return Status.NOT_ATTEMPTED, "not attempted: the function still raises NotImplementedError"
        if exc.type_name == "MissingFunction":
            return Status.ERROR, (
                f"your file has no function `{exc.message}`; keep the names from the exercise file"
            )
        if exc.phase == "import":
            return Status.ERROR, f"your file could not be imported: {exc.type_name}: {exc.message}{where}"
        meaning = explain(exc)
        said = f"\nwhat it means: {meaning}" if meaning else ""
        return Status.ERROR, f"your code raised {exc.type_name}: {exc.message}{said}{where}"
    if isinstance(exc, CallTimeout):
        return Status.TIMEOUT, (
            f"did not finish in time ({exc}); look for an endless loop or far more work than needed"
        )
    if isinstance(exc, ChildCrashed):
        return Status.ERROR, f"your code stopped the program: {exc}"
    if isinstance(exc, AssertionError):
        return Status.FAILED, str(exc) or "the check failed"
    if isinstance(exc, GraderFailure):  # ours, not the learner's: a batch retries, never books it
        return Status.ERROR, f"the grader itself failed here, not your code ({exc}); please run it again"
    if isinstance(exc, DatasetError):  # not the learner's fault: say how to get the data
        return Status.ERROR, f"this check needs the MNIST data, which is not available here.\n{exc}"
    return Status.ERROR, f"the grader could not check this result ({type(exc).__name__}: {exc})"


def _title(item: pytest.Item) -> str:
    doc = getattr(getattr(item, "function", None), "__doc__", None)
    if doc and doc.strip():
        return doc.strip().splitlines()[0].rstrip(".")
    return item.name.removeprefix("test_").replace("_", " ")


class _GradingPlugin:
    """Feeds the `sub` fixture to the checks and records one TestResult per check."""

    def __init__(self, session: LearnerSession, seed: int) -> None:
        self.session = session
        self.seed = seed
        self.results: list[TestResult] = []

    @pytest.fixture
    def sub(self) -> LearnerSession:
        return self.session

    @pytest.fixture
    def hidden_rng(self, request: Any) -> np.random.Generator:
        # One stream per check, all derived from the secret seed.
        return np.random.default_rng([self.seed, zlib.crc32(request.node.name.encode())])

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.output_mark = output_mark(self.session)  # what the learner prints from here is this check's
        exercise = item.get_closest_marker("exercise")
        if exercise is None:
            return
        self.session.begin(exercise.args[0])  # its checks' calls go to this exercise's own child
        if not self.session.has(exercise.args[0]):
            self.session.require(exercise.args[0])  # raises ExerciseMissing with the reason

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
        yield
        failed_setup = call.when == "setup" and call.excinfo is not None
        if call.when != "call" and not failed_setup:
            return
        exercise_marker = item.get_closest_marker("exercise")
        points_marker = item.get_closest_marker("points")
        max_points = float(points_marker.args[0]) if points_marker else 1.0
        status, feedback = outcome_for(call.excinfo.value if call.excinfo else None)
        self.results.append(
            TestResult(
                exercise=exercise_marker.args[0] if exercise_marker else "?",
                name=_title(item),
                visibility=visibility_of(Path(str(item.fspath))),
                points=max_points if status is Status.PASSED else 0.0,
                max_points=max_points,
                status=status,
                feedback=feedback,
                duration_s=round(call.duration, 3),
                printed=printed_since(self.session, self.output_mark) if status is not Status.PASSED else "",
            )
        )


class _PointsCollector:
    def __init__(self) -> None:
        self.points: dict[str, list[float]] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            exercise = item.get_closest_marker("exercise")
            points = item.get_closest_marker("points")
            if exercise is None:
                continue
            slot = 1 if visibility_of(Path(str(item.fspath))) == "hidden" else 0
            totals = self.points.setdefault(exercise.args[0], [0.0, 0.0])
            totals[slot] += float(points.args[0]) if points else 1.0


def _pytest_args(paths: list[str]) -> list[str]:
    # No plugin auto-loading: no installed pytest plugin takes part in grading, and no
    # entry-point scan per learner.
    return ["--disable-plugin-autoload", "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:stepwise",
            "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
            "--import-mode=importlib", "-c", str(CHECKS_DIR / "pytest.ini"),
            "--rootdir", str(CHECKS_DIR), "-W", "ignore", *paths]


def collect_points(hidden: bool = True) -> dict[str, tuple[float, float]]:
    """(public, hidden) points of each exercise, read from the checks' markers."""
    paths = [str(p) for e in EXERCISES for p in check_files(e, hidden)]
    collector = _PointsCollector()
    if paths:
        pytest.main([*_pytest_args(paths), "--collect-only"], plugins=[collector])
    return {k: (v[0], v[1]) for k, v in collector.points.items()}


def hidden_seed(explicit: int | None = None, stored: str | None = None) -> tuple[int, str]:
    """The one hidden-seed rule: (seed, where it came from).

    The instructor's explicit seed, else ``$GRADER_SEED``, else one stored by an earlier
    run (a batch's journal), else a fresh random one. Never shown to a learner.
    """
    if explicit is not None:
        return explicit, "--seed"
    env = os.environ.get(SEED_ENV, "").strip()
    if env.isdigit():
        return int(env), f"${SEED_ENV}"
    if stored is not None and stored.strip().isdigit():
        return int(stored), "stored by an earlier run on this folder"
    return secrets.randbelow(2**31), "random for this run"


def run_checks(
    files: SubmissionFiles,
    exercises: tuple[Exercise, ...] = EXERCISES,
    options: RunOptions | None = None,
    session: LearnerSession | None = None,
) -> RunResult:
    """Grade the exercises of one learner and return the result model."""
    options = options or RunOptions()
    own_session = session is None
    session = session or LearnerSession(files, options.policy)
    first = next((e.id for e in exercises if session.has(e.id)), None)
    if first is not None:
        session.start(first)  # a spawned child imports TensorFlow while pytest collects
    plugin = _GradingPlugin(session, hidden_seed(options.seed)[0])
    paths = [str(p) for e in exercises for p in check_files(e, options.hidden)]
    try:
        if paths:
            pytest.main(_pytest_args(paths), plugins=[plugin])
    finally:
        if own_session:
            session.close()
    by_exercise: dict[str, list[TestResult]] = {}
    for result in plugin.results:
        by_exercise.setdefault(result.exercise, []).append(result)
    notes = [f"{e}: {p}" for e, p in files.problems.items()]
    results = []
    for exercise in exercises:
        file = files.files.get(exercise.id)
        results.append(
            ExerciseResult(exercise.id, exercise.title, tuple(by_exercise.get(exercise.id, [])),
                           tuple(file.notes) if file else ())
        )
    return RunResult(tuple(results), tuple(notes))
