"""What a check sees as `sub`: the learner's exercises, proxied to an isolated child.

``sub.ex03.softmax(x)`` sends `x` to the child, runs the learner's `softmax`
there and returns plain data.

- **A fresh child per exercise** when grading (``policy.isolate``; a learner's own
  ``grader check`` keeps one child, as it has no sandbox and no secrets to guard). The first call of an exercise's checks (see
  :meth:`LearnerSession.begin`) stops the previous exercise's child and starts a new one (forked from the warm zygote when the policy
  has one), so nothing an exercise's code does (globals, environment, files in its
  scratch space, processes) reaches the next exercise's checks. Every child still
  gets all of the learner's sources: ex07 may import the learner's ex06.
- A timeout stops the child; the rest of that exercise is then reported as timed out.
- An optional ``deadline`` (``time.monotonic()``) is one wall-time budget shared by
  every call; when it has passed, calls are skipped as timed out and
  :attr:`LearnerSession.exhausted` is set.
- A failure of the grader's own machinery (the zygote gone or silent) is raised as
  :class:`GraderFailure` and remembered in :attr:`LearnerSession.grader_failure`, so
  that the caller never books it as the learner's score.
"""

from __future__ import annotations

import time
from typing import Any

from grader.checking.submission import SubmissionFiles
from grader.course.exercises import find_exercise
from grader.engine.child import Child
from grader.engine.errors import CallTimeout, ChildCrashed, ExerciseMissing, GraderFailure
from grader.engine.inside.protocol import Handle
from grader.engine.launch import Policy
from grader.engine.zygote import ZygoteError

__all__ = ["LearnerSession", "ExerciseMissing", "ExerciseProxy", "GraderFailure"]

MAX_CRASHES_PER_EXERCISE = 2


class ExerciseProxy:
    """`sub.ex03`: attribute access gives callables that run in the child."""

    def __init__(self, session: LearnerSession, exercise_id: str) -> None:
        self._session = session
        self._exercise = exercise_id

    def __getattr__(self, function: str) -> Any:
        if function.startswith("__"):
            raise AttributeError(function)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._session.call(self._exercise, function, *args, **kwargs)

        call.__name__ = function
        return call

    @property
    def source(self) -> str:
        return self._session.source(self._exercise)


class LearnerSession:
    """Owns one child at a time for one learner's files: a fresh one for each exercise."""

    def __init__(self, files: SubmissionFiles, policy: Policy | None = None,
                 deadline: float | None = None) -> None:
        self.files = files
        self.policy = policy or Policy()
        self.deadline = deadline
        self.exhausted = False
        self.grader_failure = ""
        self.children_started = 0
        self._child: Child | None = None
        self._child_exercise: str | None = None
        self._checking: str | None = None
        self._timed_out: set[str] = set()
        self._crashes: dict[str, int] = {}

    # -- lifecycle -------------------------------------------------------

    def start(self, exercise_id: str | None = None) -> None:
        """Start the child for `exercise_id` now (default: the learner's first exercise).

        Called ahead of the checks, so that a spawned child's TensorFlow import overlaps
        with our own work. A child of another exercise is stopped first.
        """
        exercise_id = exercise_id or next(iter(self.files.files), None)
        if exercise_id is None or exercise_id not in self.files.files:
            return
        if self._child is not None and self._child.alive and (
                self._child_exercise == exercise_id or not self.policy.isolate):
            return  # a learner checking their own code (no isolation) keeps one child: no secrets
        self.close()
        if self.grader_failure:
            raise GraderFailure(self.grader_failure)
        try:
            self._child = Child(self.files.sources_for_child(), self.policy)
        except ZygoteError as exc:
            self.grader_failure = f"the grader's zygote failed ({exc})"
            raise GraderFailure(self.grader_failure) from None
        self._child_exercise = exercise_id
        self.children_started += 1

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None
            self._child_exercise = None

    def begin(self, exercise_id: str) -> None:
        """The checks of `exercise_id` start: from now on calls go to that exercise's child.

        A check of ex07 that calls ``sub.ex06`` therefore runs ex06's code in ex07's child
        (which has every source), and handles stay valid within the check.
        """
        self._checking = exercise_id

    def kill_now(self) -> None:
        """Stop the child at once (from a signal handler: no goodbye message)."""
        child = self._child
        if child is not None:
            child.kill()

    def __enter__(self) -> LearnerSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what checks use ----------------------------------------------------

    def __getattr__(self, name: str) -> ExerciseProxy:
        if name.startswith("ex") and name[2:].isdigit():
            return ExerciseProxy(self, find_exercise(name).id)
        raise AttributeError(name)

    def has(self, exercise_id: str) -> bool:
        return exercise_id in self.files.files

    def source(self, exercise_id: str) -> str:
        self.require(exercise_id)
        return self.files.files[exercise_id].source

    def require(self, exercise_id: str) -> None:
        """Raise :class:`ExerciseMissing` (with the reason) unless the learner has this exercise."""
        if exercise_id in self.files.problems:
            raise ExerciseMissing(self.files.problems[exercise_id])
        if exercise_id not in self.files.files:
            module = find_exercise(exercise_id).module
            raise ExerciseMissing(f"no {module}.py or {module}.ipynb was found in {self.files.root}")

    def call(self, exercise_id: str, function: str, *args: Any, timeout: float | None = None,
             tensors: bool = True, seed: int | None = None, **kwargs: Any) -> Any:
        """Run the learner's `function` from `exercise_id` in the child and return its value."""
        return self._run(exercise_id, function, args, kwargs, timeout, tensors, seed, None)

    def call_method(self, exercise_id: str, handle: Handle, method: str, *args: Any,
                    timeout: float | None = None, tensors: bool = False, **kwargs: Any) -> Any:
        """Call a method of an object that stays in the child (e.g. `model.predict`)."""
        return self._run(exercise_id, method, args, kwargs, timeout, tensors, None, handle)

    def export_model(self, exercise_id: str, handle: Handle, *, max_values: int,
                     timeout: float | None = None) -> Any:
        """A Keras model that stays in the child, as plain data: layer classes, plain configs and
        (when it has at most `max_values` numbers) weights. Untrusted: check it all."""
        return self._run(exercise_id, "export_model", (), {"max_values": int(max_values)}, timeout,
                         False, None, handle, op="export")

    def _budget(self, timeout: float | None) -> float:
        """The call's timeout, cut to what is left of the deadline."""
        wanted = self.policy.limits.call_timeout_s if timeout is None else timeout
        if self.deadline is None:
            return wanted
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.exhausted = True
            raise CallTimeout("skipped: the time budget for this learner ran out")
        return min(wanted, left)

    def _run(self, exercise_id: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
             timeout: float | None, tensors: bool, seed: int | None, handle: Handle | None,
             op: str = "call") -> Any:
        """One call into the child, with the exercise's timeout and crash bookkeeping."""
        self.require(exercise_id)
        if exercise_id in self._timed_out:
            raise CallTimeout("skipped: an earlier check of this exercise ran out of time")
        if self._crashes.get(exercise_id, 0) >= MAX_CRASHES_PER_EXERCISE:
            raise ChildCrashed("skipped: your code for this exercise stopped the program twice already")
        budget = self._budget(timeout)
        self.start(self._checking if self._checking in self.files.files else exercise_id)
        assert self._child is not None
        module = self.files.files[exercise_id].module
        try:
            return self._child.call(module, name, args, kwargs, timeout=budget, tensors=tensors,
                                    seed=seed, handle=handle, op=op)
        except CallTimeout:
            self._timed_out.add(exercise_id)
            if self.deadline is not None and time.monotonic() >= self.deadline - 0.05:
                self.exhausted = True  # the call was cut by the learner's budget, not its own timeout
            raise
        except ChildCrashed:
            self._crashes[exercise_id] = self._crashes.get(exercise_id, 0) + 1
            raise

    @property
    def tripped(self) -> tuple[str, ...]:
        """The ready-made functions the last call used (the child's trip-wire, inside/tripwire.py)."""
        return getattr(self._child, "tripped", ()) if self._child is not None else ()

    def output(self) -> str:
        """What the learner's code printed so far in the current exercise's child (bounded)."""
        return self._child.output.text() if self._child is not None else ""
