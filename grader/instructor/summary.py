"""The class at a glance: ``summary.json`` and ``summary.png`` from the committed results.

``summary.json`` schema::

    {"learners": int, "graded": int, "max_points": float,
     "scores": {"mean": float, "median": float, "min": float, "max": float},
     "histogram": {"edges": [float], "counts": [int]},        # totals, in points
     "exercises": [{"id", "title", "max_points", "mean_points", "attempted",
                    "pass_rate", "attempted_rate",            # rates in 0..1 over graded learners
                    "pass_rate_attempted"}],                  # 0..1 over those who attempted it
     "checks": [{"exercise", "name", "visibility", "max_points", "passed", "count",
                 "pass_rate"}],        # count: learners who attempted the exercise; hardest first
     "problems": [{"learner", "reason"}],
     # added when the class files are written (grader.instructor.outputs):
     "provenance": {"grader_version": str, "seed": str, "written": ISO date,
                    "defences": {"active": [str], "missing": [str]}},
     "similarity": [{"exercise", "kind", "learners", "share", "shared"}]}  # see similarity.py

The plot shows the score histogram, the pass rate of each exercise and of each
check, so the check the class struggles with stands out.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from grader.checking.inert import inert_json
from grader.checking.job import LearnerResult
from grader.checking.outcomes import Status
from grader.instructor.gradebook import atomic_write

__all__ = ["summarise", "write_summary"]


def _histogram(totals: list[float], top: float, bins: int = 10) -> tuple[list[float], list[int]]:
    top = top or max(totals, default=0.0) or 1.0
    edges = [round(top * i / bins, 6) for i in range(bins + 1)]
    counts = [0] * bins
    for value in totals:
        index = min(int(value / top * bins), bins - 1) if top else 0
        counts[max(index, 0)] += 1
    return edges, counts


def summarise(learners: int, results: list[LearnerResult], exercise_ids: list[str]) -> dict[str, Any]:
    """The summary of a batch: `learners` entries, of which `results` are graded."""
    maxima: dict[str, float] = {e: 0.0 for e in exercise_ids}
    titles: dict[str, str] = {}
    for r in results:
        for e in r.result.exercises:
            if e.id in maxima:
                maxima[e.id] = max(maxima[e.id], e.max_points)
                titles[e.id] = e.title
    top = round(sum(maxima.values()), 6)
    totals = [round(sum(e.points for e in r.result.exercises if e.id in maxima), 6) for r in results]
    edges, counts = _histogram(totals, top)
    count = max(len(results), 1)
    exercises = []
    checks: dict[tuple[str, str, str], list[float]] = {}
    for exercise_id in exercise_ids:
        found = [e for r in results for e in r.result.exercises if e.id == exercise_id]
        tried = [e for e in found if e.status is not Status.NOT_ATTEMPTED]
        exercises.append({
            "id": exercise_id, "title": titles.get(exercise_id, ""), "max_points": maxima[exercise_id],
            "mean_points": round(sum(e.points for e in found) / count, 3),
            "pass_rate": round(sum(e.status is Status.PASSED for e in found) / count, 3),
            "attempted_rate": round(len(tried) / count, 3),
            "attempted": len(tried),
            "pass_rate_attempted": round(
                sum(e.status is Status.PASSED for e in tried) / max(len(tried), 1), 3),
        })
        for e in tried:  # a learner who never attempted an exercise does not count against its checks
            for t in e.tests:
                slot = checks.setdefault((t.exercise, t.name, t.visibility), [0, 0, t.max_points])
                slot[0] += t.status is Status.PASSED
                slot[1] += 1
    check_rows = [
        {"exercise": ex, "name": name, "visibility": vis, "max_points": mx, "passed": int(p),
         "count": int(n), "pass_rate": round(p / n, 3) if n else 0.0}
        for (ex, name, vis), (p, n, mx) in checks.items()
    ]
    check_rows.sort(key=lambda c: (c["pass_rate"], c["exercise"], c["name"]))
    return {
        "learners": learners,
        "graded": len(results),
        "max_points": top,
        "scores": {
            "mean": round(statistics.fmean(totals), 3) if totals else 0.0,
            "median": round(statistics.median(totals), 3) if totals else 0.0,
            "min": min(totals, default=0.0),
            "max": max(totals, default=0.0),
        },
        "histogram": {"edges": edges, "counts": counts},
        "exercises": exercises,
        "checks": check_rows,
        "problems": [{"learner": r.learner, "reason": r.reason} for r in results if r.reason],
    }


LEGEND = (("#c44e52", "under 50 %"), ("#dd8452", "50-80 %"), ("#55a868", "80 % or more"))


def _label(text: str, width: int = 48, lines: int = 2) -> str:
    """`text` wrapped at word boundaries (underscores count as breaks), at most `lines` lines."""
    import textwrap

    wrapped = textwrap.wrap(text.replace("_", "_ "), width, break_long_words=False, break_on_hyphens=False)
    wrapped = [line.replace("_ ", "_") for line in wrapped]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1].rstrip("_ ") + " …"
    return "\n".join(wrapped)


def _plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    checks = summary["checks"]
    height = 3.4 + 0.4 * max(len(checks), 4)
    fig = plt.figure(figsize=(11, height), layout="constrained")
    rows: Any = fig.subfigures(2, 1, height_ratios=[3.4, height - 3.4])
    top, bottom = rows[0], rows[1]
    ax_hist, ax_ex = top.subplots(1, 2)
    ax_checks = bottom.subplots()
    edges, counts = summary["histogram"]["edges"], summary["histogram"]["counts"]
    widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
    ax_hist.bar(edges[:-1], counts, width=widths, align="edge", color="#4c72b0", edgecolor="white")
    ax_hist.set(title=f"Total scores ({summary['graded']} learners, "
                      f"mean {summary['scores']['mean']:g} / {summary['max_points']:g})",
                xlabel="points", ylabel="learners")
    ax_hist.yaxis.get_major_locator().set_params(integer=True)
    ids = [e["id"] for e in summary["exercises"]]
    ax_ex.bar(ids, [100 * e["pass_rate"] for e in summary["exercises"]], color="#55a868",
              label="all checks passed")
    ax_ex.plot(ids, [100 * e["attempted_rate"] for e in summary["exercises"]], "o", color="#333333",
               label="attempted")
    ax_ex.set(title="Pass rate per exercise", ylabel="% of learners", ylim=(0, 105))
    ax_ex.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, fontsize=8, frameon=False)
    names = [_label(f"{c['exercise']} {'[hidden] ' if c['visibility'] == 'hidden' else ''}{c['name']}")
             for c in checks]
    rates = [100 * c["pass_rate"] for c in checks]
    colours = ["#c44e52" if r < 50 else "#dd8452" if r < 80 else "#55a868" for r in rates]
    bars = ax_checks.barh(range(len(names)), rates, color=colours)
    ax_checks.bar_label(bars, [f"{c['passed']}/{c['count']}" for c in checks], padding=3, fontsize=7)
    ax_checks.set_yticks(range(len(names)), names, fontsize=8)
    ax_checks.invert_yaxis()
    ax_checks.set(title="Pass rate per check, among the learners who attempted the exercise (hardest first)",
                  xlabel="% of the learners who attempted it", xlim=(0, 112))
    from matplotlib.patches import Patch

    ax_checks.legend(handles=[Patch(color=c, label=t) for c, t in LEGEND], loc="upper center",
                     bbox_to_anchor=(0.5, -0.1), ncol=3,
                     fontsize=7, title="pass rate", title_fontsize=7, frameon=False)
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def write_summary(out: Path, learners: int, results: list[LearnerResult],
                  exercise_ids: list[str]) -> dict[str, Any]:
    """Write OUT/summary.json and OUT/summary.png; return the summary."""
    summary = summarise(learners, results, exercise_ids)
    atomic_write(out / "summary.json", json.dumps(inert_json(summary), indent=2, ensure_ascii=False) + "\n")
    temp = out / ".summary.png.tmp"
    _plot(summary, temp)
    temp.replace(out / "summary.png")
    return summary
