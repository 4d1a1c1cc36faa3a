"""Grades corrected by hand: ``OUT/overrides.csv``, applied whenever the gradebook is written.

One row per correction: ``learner, check, points, reason, date``; ``check`` is a check's
name or ``exercise:name``. The last row for the same learner and check wins. The file
belongs to the instructor: no batch writes it, so corrections survive every rerun and
``--force``. Each applied correction becomes a note of its exercise, so feedback.md, the
gradebook and the report show it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from grader.checking.job import LearnerResult
from grader.checking.outcomes import TestResult
from grader.instructor.gradebook import atomic_write

__all__ = ["Override", "OverrideProblem", "read_overrides", "add_override", "apply_overrides",
           "find_check", "feedback_section", "OVERRIDES_NAME"]

OVERRIDES_NAME = "overrides.csv"
FIELDS = ["learner", "check", "points", "reason", "date"]
SECTION = "## Corrections by your instructor"


class OverrideProblem(Exception):
    """A correction that cannot be recorded; the message says why."""


@dataclass(frozen=True)
class Override:
    learner: str
    check: str
    points: float
    reason: str
    date: str = ""


def read_overrides(out: Path) -> dict[str, list[Override]]:
    """learner -> corrections, the last one per check winning."""
    try:
        text = (out / OVERRIDES_NAME).read_text("utf-8-sig")
    except OSError:
        return {}
    latest: dict[tuple[str, str], Override] = {}
    for row in csv.DictReader(io.StringIO(text)):
        try:
            item = Override(row["learner"], row["check"], float(row["points"]), row.get("reason") or "",
                            row.get("date") or "")
        except (KeyError, TypeError, ValueError):
            continue
        latest[(item.learner, item.check)] = item
    found: dict[str, list[Override]] = {}
    for item in latest.values():
        found.setdefault(item.learner, []).append(item)
    return found


def find_check(result: LearnerResult, check: str) -> TestResult:
    """The one check of `result` named `check` (or ``exercise:name``)."""
    tests = [t for e in result.result.exercises for t in e.tests]
    hits = [t for t in tests if check in (t.name, f"{t.exercise}:{t.name}")]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        names = ", ".join(f"{t.exercise}:{t.name}" for t in tests[:12])
        raise OverrideProblem(f"{result.learner} has no check named {check!r} (checks: {names}, ...)")
    raise OverrideProblem(f"{check!r} names several checks; write it as exercise:name "
                          f"({', '.join(f'{t.exercise}:{t.name}' for t in hits)})")


def add_override(out: Path, result: LearnerResult, check: str, points: float, reason: str) -> Override:
    """Record a correction in OUT/overrides.csv (after checking the check and the points)."""
    test = find_check(result, check)
    if not 0 <= points <= test.max_points:
        raise OverrideProblem(f"points must be between 0 and {test.max_points:g} for {check!r}")
    if not reason.strip():
        raise OverrideProblem("say why with --reason: the learner sees it in their feedback")
    item = Override(result.learner, f"{test.exercise}:{test.name}", points, reason.strip(),
                    datetime.now(timezone.utc).isoformat(timespec="seconds"))
    path = out / OVERRIDES_NAME
    old = path.read_text("utf-8-sig") if path.exists() else ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if not old.strip():
        writer.writerow(FIELDS)
    writer.writerow([item.learner, item.check, f"{item.points:g}", item.reason, item.date])
    atomic_write(path, old + buffer.getvalue())
    return item


def _note(item: Override, test: TestResult) -> str:
    return (f"corrected by your instructor: {test.name} {test.points:g} -> {item.points:g}/"
            f"{test.max_points:g} ({item.reason})")


def apply_overrides(result: LearnerResult, items: list[Override]) -> LearnerResult:
    """`result` with the corrections applied (points replaced, a note per correction)."""
    if not items:
        return result
    exercises = []
    for exercise in result.result.exercises:
        notes, tests = list(exercise.notes), []
        for test in exercise.tests:
            item = next((i for i in items if i.check in (test.name, f"{test.exercise}:{test.name}")), None)
            if item is not None:
                notes.append(_note(item, test))
                test = replace(test, points=max(0.0, min(item.points, test.max_points)))
            tests.append(test)
        exercises.append(replace(exercise, tests=tuple(tests), notes=tuple(notes)))
    return replace(result, result=replace(result.result, exercises=tuple(exercises)))


def feedback_section(result: LearnerResult) -> str:
    """The feedback.md section listing the corrections applied to `result` ("" when none)."""
    lines = [f"- {e.id}: {n[len('corrected by your instructor: '):]}" for e in result.result.exercises
             for n in e.notes if n.startswith("corrected by your instructor: ")]
    if not lines:
        return ""
    return "\n".join(["", SECTION, "", *lines, ""])
