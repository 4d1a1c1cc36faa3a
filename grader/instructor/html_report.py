"""OUT/report.html: the class in one self-contained page (no network, no CDN).

Built from what is on disk (roster, results, overrides) by :func:`write_report`, at the
end of every batch and by ``grader report OUT``. Charts are inline SVG drawn by
matplotlib; the learner table sorts and filters with a few lines of plain JavaScript.
"Similar submissions" lists :mod:`grader.instructor.similarity`'s groups, never judged.
"What the class misunderstood" counts the named mistakes (:data:`grader.checks.mistakes.MISTAKES`)
that the checks put in the feedback, per exercise, among the learners who attempted it.
Every learner-derived string is escaped by the template (jinja2 autoescape).
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.checking.inert import inert
from grader.checking.job import LearnerResult
from grader.checking.outcomes import Status
from grader.instructor.gradebook import atomic_write
from grader.instructor.summary import summarise

__all__ = ["write_report", "misconceptions", "Misconception", "REPORT_NAME"]

REPORT_NAME = "report.html"
Rows = list[tuple[str, "LearnerResult | None", str]]


@dataclass
class Misconception:
    exercise: str
    key: str
    problem: str
    hint: str
    learners: list[str] = field(default_factory=list)
    attempted: int = 0

    @property
    def percent(self) -> int:
        return round(100 * len(self.learners) / max(self.attempted, 1))


def misconceptions(results: list[LearnerResult]) -> list[Misconception]:
    """The named mistakes found in the checks' feedback, most learners first."""
    from grader.checks.mistakes import MISTAKES

    found: dict[tuple[str, str], Misconception] = {}
    attempted: dict[str, int] = {}
    for result in results:
        for exercise in result.result.exercises:
            if exercise.status is Status.NOT_ATTEMPTED:
                continue
            attempted[exercise.id] = attempted.get(exercise.id, 0) + 1
            text = "\n".join(t.feedback for t in exercise.tests if t.status is not Status.PASSED)
            for key, (problem, hint) in MISTAKES.items():
                if problem in text:
                    item = found.setdefault((exercise.id, key),
                                            Misconception(exercise.id, key, problem, hint))
                    item.learners.append(result.learner)
    for item in found.values():
        item.attempted = attempted.get(item.exercise, 0)
    return sorted(found.values(), key=lambda m: (-len(m.learners), -m.percent, m.exercise, m.key))


def _svg(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.index("<svg"):], flags=re.DOTALL)
    return re.sub(r'\s+xmlns:(?:dc|cc|rdf)="[^"]*"', "", text)  # namespaces of the metadata only


def _charts(summary: dict[str, Any], times: list[tuple[str, float]]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from grader.instructor.summary import LEGEND, _label

    plt.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable
    edges, counts = summary["histogram"]["edges"], summary["histogram"]["counts"]
    fig, ax = plt.subplots(figsize=(5.5, 3))
    ax.bar(edges[:-1], counts, width=[b - a for a, b in zip(edges[:-1], edges[1:])], align="edge",
           color="#4c72b0", edgecolor="white")
    ax.set(xlabel="total points", ylabel="learners", title="Scores")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    charts = {"histogram": _svg(fig)}
    exercises = summary["exercises"]
    fig, ax = plt.subplots(figsize=(5.5, 3))
    ax.bar([e["id"] for e in exercises], [100 * e["pass_rate_attempted"] for e in exercises], color="#55a868")
    ax.set(ylim=(0, 100), ylabel="% passed, of those who attempted", title="Pass rate per exercise")
    charts["exercises"] = _svg(fig)
    checks = summary["checks"]
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.42 * max(len(checks), 2)))
    rates = [100 * c["pass_rate"] for c in checks]
    colours = [LEGEND[0][0] if r < 50 else LEGEND[1][0] if r < 80 else LEGEND[2][0] for r in rates]
    bars = ax.barh(range(len(checks)), rates, color=colours)
    ax.bar_label(bars, [f"{c['passed']}/{c['count']}" for c in checks], padding=3, fontsize=7)
    ax.set_yticks(range(len(checks)), [_label(f"{c['exercise']} {c['name']}") for c in checks], fontsize=7)
    ax.invert_yaxis()
    ax.set(xlim=(0, 112), xlabel="% passed, of those who attempted the exercise", title="Pass rate per check")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=c, label=t) for c, t in LEGEND], loc="upper center",
              bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=7, frameon=False)
    charts["checks"] = _svg(fig)
    fig, ax = plt.subplots(figsize=(5.5, 3))
    ax.hist([t for _, t in times] or [0], bins=10, color="#8172b2", edgecolor="white")
    ax.set(xlabel="seconds per learner", ylabel="learners", title="Grading time per learner")
    charts["times"] = _svg(fig)
    return charts


def _learner_view(out: Path, learner: str, result: LearnerResult | None, note: str,
                  info: dict[str, Any], exercise_ids: list[str]) -> dict[str, Any]:
    try:
        feedback = (out / learner / "feedback.md").read_text("utf-8")
    except OSError:
        feedback = note or "no feedback written"
    points = {e.id: e for e in result.result.exercises} if result else {}
    # Learner-derived text is made inert here (control and escape sequences gone), then
    # jinja2's autoescape makes it plain text in HTML.
    return {
        "id": inert(learner), "name": inert(str(info.get("name") or learner)),
        "source": inert(str(info.get("source") or "")),
        "late": bool(info.get("late")),
        "cells": [(f"{points[e].points:g}", points[e].status.value) if e in points else ("", "")
                  for e in exercise_ids],
        "total": result.result.points if result else None,
        "max": result.result.max_points if result else None,
        "seconds": result.duration_s if result else None,
        "notes": inert((result.reason if result else note) or ""),
        "feedback": inert(feedback),
    }


def write_report(out: Path, exercise_ids: list[str], rows: Rows, roster: dict[str, dict[str, Any]],
                 meta: dict[str, Any], similar: list[dict[str, Any]] | None = None) -> Path:
    """Write OUT/report.html from the rows of the gradebook (overrides applied); return its path."""
    import jinja2

    results = [r for _, r, _ in rows if r is not None]
    summary = summarise(len(rows), results, exercise_ids)
    times = [(r.learner, r.duration_s) for r in results]
    environment = jinja2.Environment(loader=jinja2.PackageLoader("grader.instructor", "templates"),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    page = environment.get_template("report.html.j2").render(
        summary=summary, meta=meta, charts=_charts(summary, times), exercise_ids=exercise_ids,
        mistakes=misconceptions(results), similar=similar or [],
        learners=[_learner_view(out, learner, result, note, roster.get(learner, {}), exercise_ids)
                  for learner, result, note in rows],
        names={learner: str(roster.get(learner, {}).get("name") or learner) for learner, _, _ in rows},
        generated=datetime.now(timezone.utc).isoformat(timespec="seconds"), escape=html.escape,
    )
    path = out / REPORT_NAME
    atomic_write(path, page)
    return path
