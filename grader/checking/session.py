"""What a check sees as `sub`: the learner's exercises, proxied to an isolated child.

``sub.ex03.softmax(x)`` sends `x` to the child, runs the learner's `softmax`
there and returns plain data. A timeout stops the child; the rest of that
exercise is then reported as timed out and other exercises get a fresh child.
"""

from __future__ import annotations

from typing import Any

from grader.checking.submission import SubmissionFiles
from grader.course.exercises import find_exercise
from grader.engine.child import CallTimeout, Child, ChildCrashed
from grader.engine.inside.protocol import Handle
from grader.engine.launch import Policy

__all__ = ["LearnerSession", "ExerciseMissing", "ExerciseProxy"]

MAX_CRASHES_PER_EXERCISE = 2


class ExerciseMissing(Exception):
    """The learner has no file for this exercise (or it could not be read)."""


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
    """Owns the child for one learner's files; restarts it after a timeout or a crash."""

    def __init__(self, files: SubmissionFiles, policy: Policy | None = None) -> None:
        self.files = files
        self.policy = policy or Policy()
        self._child: Child | None = None
        self._timed_out: set[str] = set()
        self._crashes: dict[str, int] = {}
        self.defences: tuple[str, ...] = ()
        self.missing_defences: tuple[str, ...] = ()

    # -- lifecycle -------------------------------------------------------

    def start(self) -> None:
        """Start the child now, so its TensorFlow import overlaps with our own work."""
        if self.files.files and (self._child is None or not self._child.alive):
            self._child = Child(self.files.sources_for_child(), self.policy)
            self.defences, self.missing_defences = self._child.defences, self._child.missing

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None

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
        self._require(exercise_id)
        return self.files.files[exercise_id].source

    def _require(self, exercise_id: str) -> None:
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

    def _run(self, exercise_id: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
             timeout: float | None, tensors: bool, seed: int | None, handle: Handle | None,
             op: str = "call") -> Any:
        """One call into the child, with the exercise's timeout and crash bookkeeping."""
        self._require(exercise_id)
        if exercise_id in self._timed_out:
            raise CallTimeout("skipped: an earlier check of this exercise ran out of time")
        if self._crashes.get(exercise_id, 0) >= MAX_CRASHES_PER_EXERCISE:
            raise ChildCrashed("skipped: your code for this exercise stopped the program twice already")
        self.start()
        assert self._child is not None
        module = self.files.files[exercise_id].module
        try:
            return self._child.call(module, name, args, kwargs, timeout=timeout, tensors=tensors,
                                    seed=seed, handle=handle, op=op)
        except CallTimeout:
            self._timed_out.add(exercise_id)
            raise
        except ChildCrashed:
            self._crashes[exercise_id] = self._crashes.get(exercise_id, 0) + 1
            raise

    @property
    def tripped(self) -> tuple[str, ...]:
        """The ready-made functions the last call used (the child's trip-wire, inside/tripwire.py)."""
        return getattr(self._child, "tripped", ()) if self._child is not None else ()

    def output(self) -> str:
        """What the learner's code printed so far (bounded)."""
        return self._child.output.text() if self._child is not None else ""

