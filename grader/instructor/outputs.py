"""The class-level files of OUT, rebuilt from what is on disk: grades.csv, its metadata, report.html.

:func:`write_class_outputs` is called at the end of every batch; :func:`rebuild_outputs`
does the same from OUT alone (``grader report OUT``, ``grader override``).

``grades.meta.json``::

    {"grader_version": str, "seed": str, "written": ISO date, "exercises": [str],
     "defences": {"active": [str], "missing": [str]}, "overrides": int}
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader import __version__
from grader.checking.job import LearnerResult
from grader.instructor.gradebook import atomic_write, read_committed, write_grades_csv
from grader.instructor.intake import read_roster
from grader.instructor.overrides import SECTION, apply_overrides, feedback_section, read_overrides
from grader.instructor.similarity import read_similarity

__all__ = ["write_class_outputs", "rebuild_outputs", "class_rows", "read_meta", "META_NAME", "NotAnOutFolder"]

META_NAME = "grades.meta.json"
Rows = list[tuple[str, "LearnerResult | None", str]]


class NotAnOutFolder(Exception):
    """OUT holds no batch (no roster.json or summary.json)."""


def _defences() -> dict[str, list[str]]:
    try:
        from grader.engine.launch import Policy, describe_defences

        active, missing = describe_defences(Policy(isolate=True))
        return {"active": list(active), "missing": list(missing)}
    except Exception:  # noqa: BLE001 - metadata only; never stops the gradebook
        return {"active": [], "missing": ["unknown (could not be probed)"]}


def _feedback_with_corrections(out: Path, result: LearnerResult) -> None:
    """feedback.md with the corrected score and a section listing the corrections."""
    import re

    path = out / result.learner / "feedback.md"
    try:
        text = path.read_text("utf-8")
    except OSError:
        return
    text = text.split("\n" + SECTION, 1)[0].rstrip("\n") + "\n"
    run = result.result
    text = re.sub(r"^\*\*Score: .*\*\*$", f"**Score: {run.points:g} / {run.max_points:g} points**", text,
                  count=1, flags=re.MULTILINE)
    atomic_write(path, text + feedback_section(result))


def read_meta(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / META_NAME).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_class_outputs(out: Path, exercise_ids: list[str], rows: Rows, seed: str | None) -> None:
    """grades.csv (original names, overrides applied), grades.meta.json and report.html.

    With overrides, summary.json and summary.png are rewritten with the corrected grades.
    """
    from grader.instructor.html_report import write_report

    roster = read_roster(out)
    names = {learner: str(info.get("name") or learner) for learner, info in roster.items()}
    overrides = read_overrides(out)
    rows = [(learner, apply_overrides(result, overrides.get(learner, [])) if result else None, note)
            for learner, result, note in rows]
    for learner, result, _ in rows:
        if result is not None and learner in overrides:
            _feedback_with_corrections(out, result)
    write_grades_csv(out / "grades.csv", exercise_ids, rows, names, seed)
    if overrides:  # the summary too shows the corrected grades
        from grader.instructor.summary import write_summary

        write_summary(out, len(rows), [r for _, r, _ in rows if r is not None], exercise_ids)
    meta = {"grader_version": __version__, "seed": seed or "",
            "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "exercises": exercise_ids, "defences": _defences(),
            "overrides": sum(len(v) for v in overrides.values())}
    atomic_write(out / META_NAME, json.dumps(meta, indent=2) + "\n")
    similar = [g for g in read_similarity(out) if set(g.get("learners", ())) <= set(roster)]
    _stamp_summary(out, meta, similar)
    write_report(out, exercise_ids, rows, roster, meta, similar)


def _stamp_summary(out: Path, meta: dict[str, Any], similar: list[dict[str, Any]]) -> None:
    """summary.json gets what makes the batch reproducible, and the similar submissions."""
    from grader.checking.inert import inert_json

    try:
        summary = json.loads((out / "summary.json").read_text("utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(summary, dict):
        return
    summary["provenance"] = {k: meta[k] for k in ("grader_version", "seed", "written", "defences")}
    summary["similarity"] = similar
    atomic_write(out / "summary.json", json.dumps(inert_json(summary), indent=2, ensure_ascii=False) + "\n")


def class_rows(out: Path) -> tuple[list[str], Rows]:
    """(exercise ids, rows) of the batch in OUT, from roster.json and each result.json."""
    roster = read_roster(out)
    if not roster:
        raise NotAnOutFolder(f"{out} holds no graded batch (no roster.json): run `grader grade "
                             f"SUBMISSIONS -o {out}` first")
    summary: dict[str, Any] = {}
    try:
        summary = json.loads((out / "summary.json").read_text("utf-8"))
    except (OSError, ValueError):
        pass
    rows: Rows = []
    for learner in sorted(roster, key=lambda k: (k.casefold(), k)):
        result = read_committed(out, learner)
        rows.append((learner, result, "" if result else "not graded yet: run the batch again to finish it"))
    exercise_ids = [e["id"] for e in summary.get("exercises", [])] or sorted(
        {e.id for _, r, _ in rows if r for e in r.result.exercises})
    return exercise_ids, rows


def rebuild_outputs(out: Path) -> None:
    """Rewrite grades.csv, grades.meta.json, report.html and overridden feedback from OUT."""
    exercise_ids, rows = class_rows(out)
    seed = read_meta(out).get("seed") or None
    write_class_outputs(out, exercise_ids, rows, seed)
