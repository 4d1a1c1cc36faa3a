"""Scores into the instructor's own Canvas gradebook: ``grader lms canvas OUT --gradebook ...``.

Canvas exports a gradebook as CSV: ``Student, ID, SIS User ID, SIS Login ID, Section``,
then one column per assignment (``Name (assignment id)``) and totals; the second row is
``Points Possible`` (and a muted/"Manual Posting" row may follow). To import, Canvas
needs those five columns and the assignment's column; empty cells leave a grade alone.

Learners from a Canvas download are matched by Canvas user id (ID), then login; others
by login or e-mail (SIS Login ID) and student id (SIS User ID); then by name ("Doe, Jane"
is also "Jane Doe"). Learners not matched are returned so the command can list them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from grader.instructor.gradebook import atomic_write

__all__ = ["CanvasProblem", "CanvasImport", "merge_canvas", "IDENTITY"]

IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


class CanvasProblem(Exception):
    """The Canvas export cannot be used; the message says why."""


@dataclass(frozen=True)
class CanvasImport:
    matched: int
    unmatched_learners: tuple[str, ...]  # graded here, not in the Canvas export
    students_without_grade: tuple[str, ...]  # in Canvas, not graded here


def _read_export(path: Path) -> tuple[list[str], list[dict[str, str]], list[dict[str, str]]]:
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CanvasProblem(f"the Canvas export {path} could not be read ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = list(reader.fieldnames or [])
    missing = [c for c in IDENTITY if c not in header]
    if missing:
        raise CanvasProblem(f"{path} is not a Canvas gradebook export: no column {', '.join(missing)} "
                            "(export it from Canvas: Grades > Export > Export Entire Gradebook)")
    special, students = [], []
    for row in reader:
        student = (row.get("Student") or "").strip()
        if student in ("Points Possible",) or (not row.get("ID") and not row.get("SIS Login ID")):
            special.append(row)
        else:
            students.append(row)
    return header, special, students


def _key(text: object) -> str:
    return " ".join(str(text or "").casefold().split())


def _match(students: list[dict[str, str]], learner: str, info: dict[str, object]) -> dict[str, str] | None:
    if info.get("lms") == "canvas":  # a Canvas download names the Canvas user id: exact
        tries = [("ID", info.get("lms_id")), ("SIS Login ID", info.get("login"))]
    else:  # Gradescope: sid and email; Moodle: nothing Canvas knows but the name
        tries = [("SIS Login ID", info.get("login")), ("SIS User ID", info.get("lms_id"))]
    tries += [("SIS Login ID", learner), ("SIS User ID", learner)]
    for column, value in tries:
        if value:
            hits = [s for s in students if _key(s.get(column)) == _key(value)]
            if len(hits) == 1:
                return hits[0]
    name = _key(info.get("name") or learner)
    hits = [s for s in students  # "Doe, Jane" is also "Jane Doe"
            if name in (_key(s["Student"]), _key(" ".join(s["Student"].split(", ")[::-1])))]
    return hits[0] if len(hits) == 1 else None


def merge_canvas(export: Path, assignment: str, scores: dict[str, float], possible: float,
                 roster: dict[str, dict[str, object]], out_path: Path) -> CanvasImport:
    """Write `out_path`: the export's students with `assignment` set from `scores` (learner -> points)."""
    if not assignment.strip():
        raise CanvasProblem("--assignment must name the Canvas column, e.g. \"Lab 1 (12345)\"")
    _, _special, students = _read_export(export)
    filled: dict[int, float] = {}
    unmatched = []
    for learner, points in sorted(scores.items()):
        row = _match(students, learner, roster.get(learner, {}))
        if row is None:
            unmatched.append(str(roster.get(learner, {}).get("name") or learner))
        else:
            filled[id(row)] = points
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*IDENTITY, assignment])
    writer.writerow(["    Points Possible", "", "", "", "", f"{possible:g}"])  # as Canvas writes it
    for row in students:
        score = filled.get(id(row))
        writer.writerow([*(row.get(c, "") for c in IDENTITY), "" if score is None else f"{score:g}"])
    atomic_write(out_path, buffer.getvalue())
    without = tuple(s["Student"] for s in students if id(s) not in filled)
    return CanvasImport(len(filled), tuple(unmatched), without)
