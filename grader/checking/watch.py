"""`grader watch`: re-check an exercise every time its file is saved, with a compact, stable report.

Speed: the checks run with a warm zygote (:func:`grader.engine.zygote.warm_zygote`): TensorFlow
is imported once, in the zygote, when watching starts, and every run forks a fresh child from it
(about 0.1 s), so a save costs the checks themselves, not a TensorFlow import. Each run still gets
a new child: one run's state never leaks into the next.

The report has the same layout every time: a header line (run number, time, exercise, points),
one line per check in the checks' order, and a line saying what changed since the last run of
that exercise (newly passing and newly failing checks, points gained or lost).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.checking.outcomes import ExerciseResult, Status
from grader.checking.printed import clean_printed
from grader.checking.submission import SubmissionFiles
from grader.course.exercises import EXERCISES, Exercise

__all__ = ["WatchState", "exercises_to_run", "is_exercise_file", "render_run", "run_once"]

_FILE = re.compile(r"^(ex\d\d)[\w-]*\.(py|ipynb)$")
_MARKS = {Status.PASSED: "✓", Status.FAILED: "✗", Status.ERROR: "!", Status.TIMEOUT: "⏱",
          Status.NOT_ATTEMPTED: "·"}


def is_exercise_file(path: str | Path) -> bool:
    """An exercise file the learner edits (not a checkpoint, hidden folder or editor backup)."""
    path = Path(path)
    return bool(_FILE.match(path.name)) and not path.parent.name.startswith(".")


def _importers(files: SubmissionFiles) -> dict[str, set[str]]:
    """{exercise id: ids of the exercises whose file imports it} (ex06 -> {ex07})."""
    modules = {e.module: e.id for e in EXERCISES}
    found: dict[str, set[str]] = {}
    for exercise_id, file in files.files.items():
        for module in re.findall(r"^\s*(?:from|import)\s+(ex\d\d_\w+)", file.source, flags=re.MULTILINE):
            if module in modules and modules[module] != exercise_id:
                found.setdefault(modules[module], set()).add(exercise_id)
    return found


def exercises_to_run(changed: Iterable[str | Path], files: SubmissionFiles,
                     only: Exercise | None = None) -> tuple[Exercise, ...]:
    """The exercises to re-check after `changed` files were saved.

    An exercise runs when its own file changed or a file it imports did (ex07 after ex06);
    with `only`, just that exercise, and only when one of those changed.
    """
    ids = {m.group(1) for p in changed if is_exercise_file(p) and (m := _FILE.match(Path(p).name))}
    importers = _importers(files)
    for exercise_id in list(ids):
        ids |= importers.get(exercise_id, set())
    return tuple(e for e in EXERCISES if e.id in ids and (only is None or e.id == only.id))


@dataclass
class WatchState:
    """What the last run of each exercise gave, for "what changed"."""

    runs: int = 0
    last: dict[str, ExerciseResult] = field(default_factory=dict)


def _changes(result: ExerciseResult, before: ExerciseResult | None) -> str:
    if before is None:
        return "changes: first run"
    old = {t.name: t.status for t in before.tests}
    fixed = [t.name for t in result.tests if t.status is Status.PASSED and old.get(t.name, Status.PASSED)
             is not Status.PASSED]
    broken = [t.name for t in result.tests if t.status is not Status.PASSED and old.get(t.name) is Status.PASSED]
    delta = result.points - before.points
    if not fixed and not broken and not delta:
        return "changes: none since the last run"
    parts = [f"{delta:+g} points"]
    if fixed:
        parts.append(f"newly passing: {len(fixed)}")
    if broken:
        parts.append(f"newly failing: {len(broken)}")
    return "changes: " + ", ".join(parts)


def render_run(result: ExerciseResult, before: ExerciseResult | None, run: int, seconds: float,
               clock: str, width: int = 72) -> list[str]:
    """The report of one run of one exercise, as plain lines (the same layout every time)."""
    old = {t.name: t.status for t in before.tests} if before is not None else {}
    lines = [f"── run {run} · {clock} · {result.id} {result.title} · "
             f"{result.points:g}/{result.max_points:g} points · {seconds:.2f} s ──"]
    if result.status is Status.NOT_ATTEMPTED:
        reason = result.tests[0].feedback if result.tests else f"no file for {result.id} in this folder"
        lines.append("  · " + clean_printed((reason.strip().splitlines() or ["not attempted"])[0]))
    for test in result.tests if result.status is not Status.NOT_ATTEMPTED else ():
        name = test.name if len(test.name) <= width else test.name[: width - 1] + "…"
        tag = ""
        if before is not None and old.get(test.name) is not None and (old[test.name] is Status.PASSED) != (
                test.status is Status.PASSED):
            tag = "  newly passing" if test.status is Status.PASSED else "  newly failing"
        lines.append(f"  {_MARKS[test.status]} {name:<{width}} {test.points:g}/{test.max_points:g}{tag}")
        if test.status is not Status.PASSED and test.feedback.strip():
            first = clean_printed(test.feedback.strip().splitlines()[0])  # it may quote the learner's text
            lines.append(f"      {first[:160]}")
    lines.append("  " + _changes(result, before))
    return lines


def run_once(folder: Path, exercises: tuple[Exercise, ...], state: WatchState,
             timeout: float | None = None) -> list[str]:
    """Check `exercises` in `folder` once (warm zygote, fresh child) and return the report lines."""
    from grader.checking.runner import RunOptions, run_checks
    from grader.checking.session import LearnerSession
    from grader.checking.submission import load_submission
    from grader.engine.policy import Limits, Policy
    from grader.engine.zygote import ZygoteError, close_zygotes

    started = time.monotonic()
    files = load_submission(folder)
    limits = Limits() if timeout is None else Limits(call_timeout_s=timeout)
    policy = Policy(isolate=False, limits=limits, warm=True)
    for attempt in (1, 2):
        try:
            with LearnerSession(files, policy) as session:
                result = run_checks(files, exercises, RunOptions(policy=policy), session)
            break
        except ZygoteError:  # the warm process stopped answering: start a new one (a TensorFlow import)
            close_zygotes()
            if attempt == 2:
                raise
    seconds = time.monotonic() - started
    state.runs += 1
    clock = time.strftime("%H:%M:%S")
    lines: list[str] = []
    for exercise in result.exercises:
        lines += render_run(exercise, state.last.get(exercise.id), state.runs, seconds, clock)
        state.last[exercise.id] = exercise
    lines += [f"note: {note}" for note in result.notes]
    return lines
