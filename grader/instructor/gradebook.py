"""What a batch writes for each learner, and the class gradebook.

Per learner, in ``OUT/<learner>/``:

- ``result.json``: the full record (:class:`grader.checking.job.LearnerResult`), for the instructor;
- ``feedback.md``: what the learner may read; hidden checks show only name and score
  unless the instructor reveals them;
- ``results.json``: the same in Gradescope's format (see :func:`gradescope_results`).

Every file is written to a temporary name in its folder and renamed into place, and
``result.json`` goes last, so a learner whose ``result.json`` exists is complete.

``OUT/grades.csv`` starts with a UTF-8 byte-order mark (so Excel reads accents right);
the header is ``learner``, ``name`` (the original name), one column of points per
exercise, ``total``, ``max``, ``notes``, ``grader_version``, ``seed``; the second row,
``Points Possible``, holds each column's maximum; then one row per learner, sorted by
learner. No cell starts with a character a spreadsheet would read as a formula.

Learner-derived text (exception messages, file and zip member names, ids) goes through
:mod:`grader.checking.inert` on its way into each file: escaped or fenced in Markdown,
one formula-safe line in CSV, control characters and escape sequences stripped in JSON.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from grader.checking.inert import csv_cell, inert_json, markdown_block, markdown_inline
from grader.checking.job import LearnerResult
from grader.checking.outcomes import ExerciseResult, RunResult, Status, TestResult
from grader.checking.printed import LABEL, visible_printed
from grader.checking.terminal import STATUS_WORDS, visible_feedback

__all__ = [
    "atomic_write",
    "feedback_markdown",
    "gradescope_results",
    "commit_learner",
    "write_learner_views",
    "read_committed",
    "notes_for",
    "spreadsheet_safe",
    "write_grades_csv",
    "GRADESCOPE_FORMAT",
    "POINTS_POSSIBLE",
]

GRADESCOPE_FORMAT = "md"  # Gradescope renders output as Markdown; learner text is fenced or escaped
_ICONS = {Status.PASSED: "✅", Status.FAILED: "❌", Status.ERROR: "💥", Status.TIMEOUT: "⏱",
          Status.NOT_ATTEMPTED: "➖"}


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to a temporary file next to `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _test_line(test: TestResult) -> str:
    hidden = " (hidden)" if test.visibility == "hidden" else ""
    points = f"{test.points:g}/{test.max_points:g}"
    return f"| {_ICONS[test.status]} | {markdown_inline(test.name)}{hidden} | {points} |"


def _notes_markdown(notes: tuple[str, ...] | list[str]) -> list[str]:
    """One quote per note, each followed by a blank line: a table or heading after it stays one."""
    return [line for note in notes for line in (f"> note: {markdown_inline(note)}", "")]


def _exercise_markdown(exercise: ExerciseResult, reveal_hidden: bool) -> list[str]:
    word = STATUS_WORDS[exercise.status][0]
    lines = [f"## {markdown_inline(exercise.id)} · {markdown_inline(exercise.title)}: "
             f"{exercise.points:g}/{exercise.max_points:g} ({word})", ""]
    lines += _notes_markdown(exercise.notes)
    if exercise.status is Status.NOT_ATTEMPTED:
        return lines + ["Not attempted yet: no file, or the functions still raise "
                        "`NotImplementedError`.", ""]
    lines += ["| | check | points |", "|---|---|---|", *map(_test_line, exercise.tests), ""]
    shown: dict[str, str] = {}
    for test in exercise.tests:
        if test.status is Status.PASSED:
            continue
        text = visible_feedback(test, reveal_hidden).strip()
        label = "hidden check" if test.visibility == "hidden" else "check"
        lines.append(f"### {_ICONS[test.status]} {label}: {markdown_inline(test.name)} "
                     f"({STATUS_WORDS[test.status][0]}, {test.points:g}/{test.max_points:g})")
        if text in shown:
            lines += ["", f"The same problem as in “{markdown_inline(shown[text])}” above.", ""]
        elif text:
            shown[text] = test.name
            lines += ["", markdown_block(text), ""]
        else:
            lines += ["", "Details of hidden checks are not shown: test your code on inputs of "
                          "your own (other shapes, sizes, extreme values).", ""]
        if printed := visible_printed(test, reveal_hidden):
            lines += [f"{LABEL[0].upper()}{LABEL[1:]}:", "", markdown_block(printed), ""]
    return lines


def feedback_markdown(learner: LearnerResult, reveal_hidden: bool = False) -> str:
    """The learner's feedback page."""
    run = learner.result
    lines = [f"# Feedback for {markdown_inline(learner.learner)}", "",
             f"**Score: {run.points:g} / {run.max_points:g} points**", ""]
    if learner.reason:
        lines += [f"> **Not graded normally:** {markdown_inline(learner.reason)}", ""]
    lines += _notes_markdown(run.notes)
    for exercise in run.exercises:
        lines += _exercise_markdown(exercise, reveal_hidden)
    lines += ["---", f"Graded by grader {learner.grader_version}. Your code ran in a separate, "
                     "time-limited process; the checks never ran inside it."]
    return "\n".join(lines).rstrip() + "\n"


def _gradescope_test(test: TestResult, reveal_hidden: bool) -> dict[str, Any]:
    """One test in Gradescope's format; its output is Markdown (``output_format: md``): the status
    in bold, then the feedback and anything printed in fenced blocks, so expected/got keep their
    layout and learner text is shown as text."""
    hidden = test.visibility == "hidden"
    parts = [f"**{STATUS_WORDS[test.status][0]}**"]
    text = visible_feedback(test, reveal_hidden).strip()
    if text:
        parts.append(markdown_block(text))
    elif hidden:
        parts = []
    if printed := visible_printed(test, reveal_hidden):
        parts += [f"{LABEL[0].upper()}{LABEL[1:]}:", markdown_block(printed)]
    return {
        "name": f"{test.exercise} · {'hidden: ' if hidden else ''}{test.name}",
        "score": float(test.points),
        "max_score": float(test.max_points),
        "status": "passed" if test.status is Status.PASSED else "failed",
        "output": "\n\n".join(parts),
        "output_format": GRADESCOPE_FORMAT,
        "visibility": "after_published" if hidden else "visible",
    }


def gradescope_results(run: RunResult, execution_time: float, reveal_hidden: bool = False,
                       reason: str = "") -> dict[str, Any]:
    """Gradescope's results.json for one learner (score, execution_time, output, tests), in Markdown."""
    summary = [f"**Score: {run.points:g} / {run.max_points:g} points**", ""]
    if reason:
        summary += [f"Not graded normally: {markdown_inline(reason)}", ""]
    summary += [f"- note: {markdown_inline(note)}" for note in run.notes]
    summary += [f"- {markdown_inline(e.id)} {markdown_inline(e.title)}: {e.points:g}/{e.max_points:g} "
                f"({STATUS_WORDS[e.status][0]})" for e in run.exercises]
    return inert_json({
        "score": float(run.points),
        "execution_time": round(float(execution_time), 3),
        "output": "\n".join(summary).rstrip(),
        "output_format": GRADESCOPE_FORMAT,
        "test_output_format": GRADESCOPE_FORMAT,
        "tests": [_gradescope_test(t, reveal_hidden) for e in run.exercises for t in e.tests],
    })


def write_learner_views(out: Path, learner: LearnerResult, reveal_hidden: bool) -> None:
    """(Re)write feedback.md and results.json from a result."""
    folder = out / learner.learner
    atomic_write(folder / "feedback.md", feedback_markdown(learner, reveal_hidden))
    gradescope = gradescope_results(learner.result, learner.duration_s, reveal_hidden, learner.reason)
    atomic_write(folder / "results.json", json.dumps(gradescope, indent=2, ensure_ascii=False) + "\n")


def commit_learner(out: Path, learner: LearnerResult, reveal_hidden: bool) -> str:
    """Write the learner's three files (result.json last); return its path relative to `out`."""
    write_learner_views(out, learner, reveal_hidden)
    relative = f"{learner.learner}/result.json"
    record = inert_json(learner.to_dict())
    atomic_write(out / relative, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return relative


def read_committed(out: Path, learner: str) -> LearnerResult | None:
    """The committed result of `learner`, or None when there is none (or it is unreadable)."""
    try:
        return LearnerResult.from_dict(json.loads((out / learner / "result.json").read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def notes_for(learner: LearnerResult) -> str:
    """One line for the gradebook: the reason, file problems, and exercises that broke."""
    notes = [learner.reason] if learner.reason else []
    notes += list(learner.result.notes)
    for exercise in learner.result.exercises:
        if exercise.status in (Status.ERROR, Status.TIMEOUT):
            first = next((t for t in exercise.tests if t.status is exercise.status), None)
            detail = _shorten((first.feedback.strip().splitlines() or [""])[0], 120) if first else ""
            word = STATUS_WORDS[exercise.status][0]
            notes.append(f"{exercise.id} {word}: {detail}" if detail else f"{exercise.id} {word}")
    return "; ".join(n.replace("\r", " ").replace("\n", " ") for n in notes if n)


#: A cell a spreadsheet shows as text (the one place: :func:`grader.checking.inert.csv_cell`).
spreadsheet_safe = csv_cell


POINTS_POSSIBLE = "Points Possible"


def write_grades_csv(path: Path, exercise_ids: list[str],
                     rows: list[tuple[str, LearnerResult | None, str]],
                     names: dict[str, str] | None = None, seed: str | None = None) -> None:
    """grades.csv from (learner, committed result or None, note when there is none).

    `names` maps a learner id to the original name; `seed` is the batch's hidden seed.
    """
    names = names or {}
    maxima = {e: 0.0 for e in exercise_ids}
    for _, result, _ in rows:
        for exercise in result.result.exercises if result else ():
            if exercise.id in maxima:
                maxima[exercise.id] = max(maxima[exercise.id], exercise.max_points)
    total_max = round(sum(maxima.values()), 6)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["learner", "name", *exercise_ids, "total", "max", "notes", "grader_version", "seed"])
    writer.writerow([POINTS_POSSIBLE, "", *(f"{maxima[e]:g}" for e in exercise_ids), f"{total_max:g}",
                     f"{total_max:g}", "", "", ""])
    for learner, result, note in sorted(rows, key=lambda r: (r[0].casefold(), r[0])):
        name = spreadsheet_safe(names.get(learner, learner))
        if result is None:
            writer.writerow([spreadsheet_safe(learner), name, *([""] * len(exercise_ids)), "",
                             f"{total_max:g}", spreadsheet_safe(note), "", seed or ""])
            continue
        points = {e.id: e.points for e in result.result.exercises}
        cells = [f"{points.get(e, 0.0):g}" for e in exercise_ids]
        total = round(sum(points.get(e, 0.0) for e in exercise_ids), 6)
        writer.writerow([spreadsheet_safe(learner), name, *cells, f"{total:g}", f"{total_max:g}",
                         spreadsheet_safe(notes_for(result)), result.grader_version, seed or ""])
    atomic_write(path, buffer.getvalue())
