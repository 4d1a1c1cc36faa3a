"""The instructor's commands on a graded OUT folder: ``report``, ``lms canvas`` (also
``export canvas``) and ``override``. Each rebuilds from the files on disk; none regrades."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.errors import UsageProblem

__all__ = ["report", "lms", "export", "override"]


def _out_folder(out: Path) -> Path:
    if not out.is_dir():
        raise UsageProblem(f"{out} is not a folder: give the OUT folder of `grader grade`")
    if not (out / "roster.json").is_file():
        raise UsageProblem(f"{out} holds no graded batch (no roster.json): run `grader grade SUBMISSIONS "
                           f"-o {out}` first")
    return out


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
def report(out: Path) -> None:
    """Rebuild OUT/report.html (and grades.csv) from the results in OUT, with overrides applied.

    The report is one self-contained HTML file: open it in any browser, offline.
    """
    from grader.instructor.outputs import rebuild_outputs

    rebuild_outputs(_out_folder(out))
    click.echo(f"wrote {out / 'report.html'} and {out / 'grades.csv'}")


@click.command("canvas")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--gradebook", type=click.Path(path_type=Path), required=True,
              help="Your gradebook exported from Canvas (Grades > Export > Export Entire Gradebook).")
@click.option("--assignment", required=True,
              help='The Canvas assignment column to fill, as Canvas names it: "Lab 1 (12345)".')
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Where to write the CSV to import into Canvas (default: OUT/canvas_import.csv).")
def canvas(out: Path, gradebook: Path, assignment: str, output: Path | None) -> None:
    """Merge the scores in OUT into a Canvas gradebook export, ready to import into Canvas.

    Learners are matched by Canvas login (SIS Login ID), user id (ID), SIS User ID, then
    name. Learners graded here but not found in Canvas are listed, never dropped silently.
    """
    from grader.instructor.canvas import CanvasProblem, merge_canvas
    from grader.instructor.intake import read_roster
    from grader.instructor.outputs import class_rows
    from grader.instructor.overrides import apply_overrides, read_overrides

    _out_folder(out)
    if not gradebook.is_file():
        raise UsageProblem(f"the Canvas export {gradebook} does not exist")
    exercise_ids, rows = class_rows(out)
    overrides = read_overrides(out)
    scores, possible = {}, 0.0
    for learner, result, _ in rows:
        if result is not None:
            result = apply_overrides(result, overrides.get(learner, []))
            scores[learner] = result.result.points
            possible = max(possible, result.result.max_points)
    target = output or out / "canvas_import.csv"
    try:
        merged = merge_canvas(gradebook, assignment, scores, possible, read_roster(out), target)
    except CanvasProblem as exc:
        raise UsageProblem(str(exc)) from None
    click.echo(f"wrote {target}: {merged.matched} scores for {assignment!r} "
               f"(points possible {possible:g}); import it in Canvas: Grades > Import")
    if merged.unmatched_learners:
        click.secho(f"NOT IN CANVAS ({len(merged.unmatched_learners)}), enter these by hand: "
                    + ", ".join(merged.unmatched_learners), fg="red", err=True)
    if merged.students_without_grade:
        click.echo(f"in Canvas but not graded here ({len(merged.students_without_grade)}), left blank: "
                   + ", ".join(merged.students_without_grade), err=True)


@click.group()
def lms() -> None:
    """Grades out to a learning-management system (Canvas)."""


@click.group()
def export() -> None:
    """Export grades (same as `grader lms`)."""


lms.add_command(canvas)
export.add_command(canvas)


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.argument("learner")
@click.argument("check")
@click.argument("points", type=float)
@click.option("--reason", required=True, help="Why: the learner reads it in their feedback.")
def override(out: Path, learner: str, check: str, points: float, reason: str) -> None:
    """Correct one check of one LEARNER by hand: CHECK gets POINTS.

    \b
    CHECK is a check's name or exercise:name (see the learner's result.json).
    Recorded in OUT/overrides.csv, applied to grades.csv, feedback.md and report.html,
    and kept through every regrade (also --force).
    """
    from grader.instructor.gradebook import read_committed
    from grader.instructor.outputs import rebuild_outputs
    from grader.instructor.overrides import OverrideProblem, add_override

    _out_folder(out)
    result = read_committed(out, learner)
    if result is None:
        raise UsageProblem(f"no graded learner {learner!r} in {out} "
                           "(use the id of the learner's folder in OUT)")
    try:
        item = add_override(out, result, check, points, reason)
    except OverrideProblem as exc:
        raise UsageProblem(str(exc)) from None
    rebuild_outputs(out)
    click.echo(f"{learner}: {item.check} set to {item.points:g} ({item.reason}); "
               "grades.csv, feedback.md and report.html updated")
