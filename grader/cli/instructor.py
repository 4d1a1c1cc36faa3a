"""The instructor's commands: ``grade``, ``release`` and ``gradescope`` (added to ``grader``).

``grader grade`` exits 0 when the batch completed, whatever the learners scored; 2 on a
usage error; 130 when interrupted (every finished result is kept; run it again to resume).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from grader.cli.errors import ExitCode, UsageProblem
from grader.course.exercises import UnknownExercise, find_exercise

__all__ = ["grade", "release", "gradescope", "ExerciseList"]


class ExerciseList(click.ParamType):
    """``--exercises ex02,ex03`` (or the option repeated): exercise ids, checked and in order."""

    name = "EX[,EX...]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        names = [n for n in str(value).replace(",", " ").split() if n]
        try:
            return tuple(find_exercise(n).id for n in names)
        except UnknownExercise as exc:
            self.fail(str(exc), param, ctx)


def _exercise_ids(values: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(e for value in values for e in value))


def _exercises_option(function: Any) -> Any:
    return click.option("--exercises", "-e", type=ExerciseList(), multiple=True,
                        help="Only these exercises (e.g. --exercises ex02,ex03, or -e ex02 -e ex03); "
                             "default: all.")(function)


def _refuse_weak_sandbox(err: Any, allow_weak: bool) -> None:
    """Stop before grading where learner code could reach solutions, hidden checks or the host."""
    from grader.engine.policy import Policy
    from grader.instructor.batch import sandbox_gaps

    gaps = sandbox_gaps(Policy(isolate=True))
    if not gaps:
        return
    lines = [f"  - missing {what}\n    to get it: {how}" for what, how in gaps]
    if not allow_weak:
        raise UsageProblem("refusing to grade untrusted code: this machine's sandbox is too weak.\n"
                           + "\n".join(lines) + "\nFix the above, or pass --allow-weak-sandbox to grade "
                           "anyway (only for code you trust).")
    err.print("WARNING: --allow-weak-sandbox: grading UNTRUSTED code in a WEAK sandbox; learners' code "
              "can defeat the grade or harm this machine:", style="bold red")
    err.print("\n".join(lines), style="red")


def _show_defences(err: Any) -> None:
    from grader.engine.policy import Policy
    from grader.instructor.batch import defences

    active, missing = defences(Policy(isolate=True))
    err.print(f"sandbox defences active: {', '.join(active) or 'none'}", style="green")
    for defence in missing:
        err.print(f"WARNING: sandbox defence MISSING on this machine: {defence}", style="bold red")
    if missing:
        err.print("learner code will run without the defences above; grade on a machine that has "
                  "them (see the README: bubblewrap, namespaces, root) for untrusted classes",
                  style="red")


@click.command()
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True,
              help="Output folder: grades.csv, summary, one folder per learner.")
@click.option("--workers", type=click.IntRange(1, 512), default=None,
              help="Learners graded at once (default: the number of cores).")
@_exercises_option
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=None,
              help="Seconds each call to a learner's code may take (default 10).")
@click.option("--budget", type=click.FloatRange(1, 86400), default=None,
              help="Wall-time seconds per learner (default: 60 + 120 per exercise).")
@click.option("--memory", type=click.IntRange(64, 1 << 20), default=None, metavar="MB",
              help="Memory per learner's process in MB (default 6144).")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None,
              help="Seed of the hidden checks' inputs (default: $GRADER_SEED, else random per "
                   "batch and kept for reruns on the same OUT).")
@click.option("--force", is_flag=True, help="Regrade everyone, even unchanged submissions.")
@click.option("--only", "only", multiple=True, metavar="LEARNER[,LEARNER...]",
              help="Regrade only these learners (their id in grades.csv, or their original name), "
                   "even if unchanged; every other learner's row is kept as it is. Repeatable.")
@click.option("--reveal-hidden", is_flag=True,
              help="Show hidden checks' details in the learners' feedback.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
              help="Grade on this Dask scheduler's workers (see docs/cluster.md).")
@click.option("--cluster", "cluster", metavar="local:N", default=None,
              help="Grade on a local Dask cluster of N workers.")
@click.option("--allow-weak-sandbox", is_flag=True,
              help="Grade even where a defence that protects the solutions, the hidden checks or this "
                   "machine is missing (e.g. no bubblewrap). Only for code you trust.")
def grade(submissions: Path, out: Path, workers: int | None, exercises: tuple[tuple[str, ...], ...],
          timeout: float | None, budget: float | None, memory: int | None, seed: int | None,
          force: bool, only: tuple[str, ...], reveal_hidden: bool, scheduler: str | None,
          cluster: str | None, allow_weak_sandbox: bool) -> None:
    """Grade every learner in SUBMISSIONS (a folder or .zip each) into OUT.

    \b
    Writes OUT/grades.csv, OUT/summary.json, OUT/summary.png and, per learner,
    OUT/<learner>/result.json, feedback.md and results.json (Gradescope format).
    Resumable: run it again after an interruption and only the missing learners
    are graded; unchanged submissions are not graded again (--force does).
    --only LEARNER regrades just that learner (e.g. a late submission).
    """
    from rich.console import Console

    from grader.instructor.batch import BatchBusy, BatchOptions, MissingData, grade_class
    from grader.instructor.cluster import ClusterError  # imports no Dask
    from grader.instructor.selection import SelectionProblem, split_names

    if not submissions.is_dir():
        raise UsageProblem(f"the submissions folder {submissions} does not exist or is not a folder")
    resolved_out, resolved_in = out.resolve(), submissions.resolve()
    if resolved_out == resolved_in or resolved_in in resolved_out.parents:
        raise UsageProblem("OUT must not be inside SUBMISSIONS (it would be graded as a learner)")
    if out.exists() and not out.is_dir():
        raise UsageProblem(f"{out} exists and is not a folder")
    chosen = _exercise_ids(exercises)
    selected = split_names(only)
    if only and not selected:
        raise UsageProblem("--only needs a learner's id or name, e.g. --only alice_full")
    if selected and force:
        raise UsageProblem("use --only (regrade those learners) or --force (regrade everyone), not both")
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    _refuse_weak_sandbox(err, allow_weak_sandbox)
    _show_defences(err)
    options = BatchOptions(submissions, out, workers, chosen, timeout, seed, force, reveal_hidden,
                           budget, memory, *_cluster_options(scheduler, cluster), only=selected)
    try:
        report = grade_class(options, err)
    except (BatchBusy, MissingData, SelectionProblem) as exc:
        raise UsageProblem(str(exc)) from None
    except ClusterError as exc:
        raise UsageProblem(str(exc)) from None
    line = (f"{report.learners} learners: {report.graded} graded, {report.reused} unchanged, "
            f"{report.problems} with problems; mean {report.mean:g}/{report.max_points:g}; "
            f"{report.seconds:g} s -> {out / 'grades.csv'}")
    click.echo(line)
    if report.interrupted:
        click.echo("interrupted: run the same command again to grade the rest", err=True)
        sys.exit(130)


def _cluster_options(scheduler: str | None, cluster: str | None) -> tuple[str | None, int | None]:
    """(scheduler address, local workers) from --scheduler / --cluster; Dask is not imported here."""
    if scheduler is not None and cluster is not None:
        raise UsageProblem("use --scheduler or --cluster, not both")
    if scheduler is not None and "://" not in scheduler:
        raise UsageProblem(f"--scheduler wants an address such as tcp://HOST:8786, got {scheduler!r}")
    if cluster is None:
        return scheduler, None
    from grader.instructor.cluster import parse_local

    try:
        return None, parse_local(cluster)
    except ValueError as exc:
        raise UsageProblem(f"--cluster: {exc}") from None


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def release(out: Path, force: bool) -> None:
    """Build the learner bundle in OUT: lessons, notebooks, the grader with public checks.

    The bundle is checked for solutions and hidden checks before it is put in place;
    if anything secret is found, nothing is released and the findings are listed.
    """
    from grader.instructor.release import ReleaseError, build_release

    if out.exists() and not out.is_dir():
        raise UsageProblem(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not force:
        raise UsageProblem(f"{out} exists and is not empty; use --force to replace it")
    try:
        built = build_release(out, force=force)
    except ReleaseError as exc:
        click.secho(f"RELEASE BLOCKED: {exc}", fg="red", bold=True, err=True)
        sys.exit(ExitCode.CHECKS_FAILED)
    click.echo(f"released {built.path}: {built.exercises} exercises, {built.notebooks} notebooks, "
               f"{built.public_checks} public check modules; no solutions, no hidden checks")


@click.command()
@click.argument("zip_path", metavar="OUT.zip", type=click.Path(path_type=Path))
@_exercises_option
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=None,
              help="Seconds each call to a learner's code may take (default 10).")
@click.option("--reveal-hidden", is_flag=True, help="Show hidden checks' details to learners.")
def gradescope(zip_path: Path, exercises: tuple[tuple[str, ...], ...], timeout: float | None,
               reveal_hidden: bool) -> None:
    """Build a Gradescope autograder zip (setup.sh, run_autograder, grader, all checks)."""
    from grader.instructor.release import build_gradescope

    if zip_path.suffix.lower() != ".zip":
        raise UsageProblem(f"{zip_path} must end in .zip")
    built = build_gradescope(zip_path, _exercise_ids(exercises), timeout, reveal_hidden)
    click.echo(f"wrote {built}: upload it as the assignment's autograder (Ubuntu base image)")
