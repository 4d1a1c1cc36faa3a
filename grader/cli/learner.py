"""The learner's commands: ``check``, ``list`` and ``notebooks``."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import click

from grader.cli.errors import ExitCode, UsageProblem
from grader.course.exercises import EXERCISES, Exercise, UnknownExercise, find_exercise

if TYPE_CHECKING:
    from grader.checking.outcomes import RunResult
    from grader.checking.submission import SubmissionFiles

__all__ = ["check", "hint", "list_exercises", "notebooks", "exercise_folder", "run_exercises"]


def _select(names: tuple[str, ...]) -> tuple[Exercise, ...]:
    try:
        chosen = [find_exercise(n) for n in names] if names else list(EXERCISES)
    except UnknownExercise as exc:
        raise UsageProblem(str(exc)) from None
    return tuple(dict.fromkeys(chosen))


def _folder(path: Path, what: str) -> Path:
    if not path.exists():
        raise UsageProblem(f"{what} {path} does not exist")
    if not path.is_dir():
        raise UsageProblem(f"{what} {path} is not a folder")
    return path


def exercise_folder(folder: Path | None) -> Path:
    """--dir, or by default ./exercises, or the current folder when it holds exercise files
    (a notebook's folder, e.g. the `notebooks/` that `grader notebooks` writes)."""
    if folder is not None:
        return _folder(folder, "the exercise folder")
    if Path("exercises").is_dir():
        return Path("exercises")
    here = Path(".")
    if any(here.glob("ex[0-9][0-9]*.py")) or any(here.glob("ex[0-9][0-9]*.ipynb")):
        return here
    raise UsageProblem("no exercise files here: run this from the course folder (the one with exercises/), "
                       "from the folder of your exercise files or notebooks, or pass --dir FOLDER")


DIR_HELP = ("Folder holding your exercise files (.py or .ipynb). Default: ./exercises, or the "
            "current folder if it holds exNN_* files.")


@click.command()
@click.argument("exercises", nargs=-1)
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None, help=DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result model as JSON.")
@click.option("--hidden", is_flag=True, help="Instructors: also run the hidden checks.")
@click.option("--seed", type=int, default=None, help="Seed for the hidden checks' inputs.")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=None,
              help="Seconds each call to your code may take (default 10).")
def check(exercises: tuple[str, ...], folder: Path | None, as_json: bool, hidden: bool,
          seed: int | None, timeout: float | None) -> None:
    """Run the checks on your exercise files and explain what to fix.

    EXERCISES are ids such as ex03 (or 3, or ex03_activations); default: all.
    Your code runs in a separate process with time limits; the checks never
    run inside it.
    """
    chosen = _select(exercises)
    result = run_exercises(chosen, exercise_folder(folder), hidden=hidden, seed=seed, timeout=timeout)
    if as_json:
        from grader.checking.inert import inert_json

        click.echo(json.dumps(inert_json(result.to_dict()), indent=2))
    else:
        from rich.console import Console

        from grader.checking.terminal import render_terminal

        render_terminal(result, Console(highlight=False, soft_wrap=True), reveal_hidden=True)
    sys.exit(ExitCode.OK if result.all_passed else ExitCode.CHECKS_FAILED)


def run_exercises(chosen: tuple[Exercise, ...], folder: Path, *, hidden: bool = False, seed: int | None = None,
                  timeout: float | None = None) -> RunResult:
    """Grade the learner's files in `folder` for the `chosen` exercises, as `grader check` does."""
    from grader.checking.session import LearnerSession
    from grader.checking.submission import load_submission
    from grader.engine.policy import Limits, Policy

    files = load_submission(folder)
    limits = Limits() if timeout is None else Limits(call_timeout_s=timeout)
    policy = Policy(isolate=False, limits=limits)
    session = LearnerSession(files, policy)
    session.start()  # the child imports TensorFlow while we import pytest and the checks
    if hidden and any(e.needs_tensorflow_in_parent for e in chosen if e.id in files.files):
        _import_in_background("tensorflow")  # ex06's hidden checks need it here: overlap both imports
    from grader.checking.runner import RunOptions, check_files, run_checks

    if hidden and not any(check_files(e, True) != check_files(e, False) for e in chosen):
        click.echo("note: the hidden checks are not installed here; running the public ones", err=True)
    try:
        return run_checks(files, chosen, RunOptions(hidden=hidden, seed=seed, policy=policy), session)
    finally:
        session.close()


def _import_in_background(module: str) -> None:
    """Import `module` in a thread, with TensorFlow's start-up log lines kept off the terminal."""
    import importlib
    import os
    import threading

    def quietly() -> None:
        saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        try:
            importlib.import_module(module)
        except ImportError:
            pass  # the check that needs it will say so
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(null)

    threading.Thread(target=quietly, daemon=True).start()


@click.command(name="list")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("exercises"),
              show_default=True, help="Folder holding your exercise files.")
def list_exercises(folder: Path) -> None:
    """Show the exercises, their points, and the state of your files."""
    from rich.console import Console
    from rich.table import Table

    from grader.checking.inert import terminal_text
    from grader.checking.runner import collect_points
    from grader.checking.submission import load_submission

    files = load_submission(folder) if folder.is_dir() else None
    points = collect_points(hidden=True)
    table = Table("exercise", "title", "public", "hidden", "your file")
    for exercise in EXERCISES:
        public, hidden = points.get(exercise.id, (0.0, 0.0))
        table.add_row(exercise.id, exercise.title, f"{public:g}", f"{hidden:g}" if hidden else "-",
                      terminal_text(_file_state(files, exercise)))  # file names are the learner's
    Console(highlight=False).print(table)


def _file_state(files: SubmissionFiles | None, exercise: Exercise) -> str:
    """What `grader list` says about the learner's file for one exercise."""
    from grader.checking.submission import stub_functions

    if files is None:
        return "no folder"
    if exercise.id in files.problems:
        return "unreadable"
    if exercise.id not in files.files:
        return "missing"
    file = files.files[exercise.id]
    todo = stub_functions(file.source)
    if todo is None:
        return f"{file.path.name}: syntax error"
    return f"{file.path.name}: " + (f"{len(todo)} to do ({', '.join(todo)})" if todo else "all written")


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("exercises"),
              show_default=True, help="Folder holding the lesson .py files.")
def notebooks(out: Path, folder: Path) -> None:
    """Turn each lesson file into a Jupyter notebook in OUT."""
    from grader.checking.notebooks import write_notebooks

    written = write_notebooks(_folder(folder, "the lesson folder"), out)
    if not written:
        raise UsageProblem(f"no exNN_*.py lesson files in {folder}")
    for path in written:
        click.echo(f"wrote {path}")


@click.command()
@click.argument("exercise")
@click.option("--level", type=click.IntRange(1, None), default=1, show_default=True,
              help="How deep: 1 names the idea, higher levels say more; the last is a worked step in words.")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None, help=DIR_HELP)
def hint(exercise: str, level: int, folder: Path | None) -> None:
    """Run the checks of EXERCISE and give a hint for the first one that does not pass.

    \b
    grader hint ex03            the first hint
    grader hint ex03 --level 2  a deeper one (the last level is a worked step, never code)
    In a notebook: from grader import hint; hint("ex03") or hint("ex03", 2).

    Every hint you take is noted in .grader/hints.json in your exercise folder, so
    your instructor can see it. Hints never change your score.
    """
    from grader.checking.hints import HintsMissing, hint_for, record_hint

    [chosen] = _select((exercise,))
    where = exercise_folder(folder)
    result = run_exercises((chosen,), where)
    try:
        found = hint_for(result.exercises[0], level)
    except HintsMissing as exc:
        raise UsageProblem(str(exc)) from None
    if found is None:
        click.echo(f"{chosen.id}: every public check passes, no hint needed. "
                   "The hidden checks try other inputs at grading time: test yours on shapes and values "
                   "of your own.")
        return
    status = found.status.value.replace("_", " ")
    click.echo(f"{chosen.id}: first check to fix: {found.title} ({status})")
    if found.feedback:
        click.echo(f"  the check said: {found.feedback}")
    note = "" if found.level == level else f" (there are only {found.levels} levels)"
    click.echo(f"\nhint {found.level} of {found.levels}{note}:")
    click.echo(textwrap.fill(found.text, width=88, initial_indent="  ", subsequent_indent="  "))
    if found.level < found.levels:
        click.echo(f"\nmore: grader hint {chosen.id} --level {found.level + 1}   "
                   f"(in a notebook: hint(\"{chosen.id}\", {found.level + 1}))")
    try:
        record = record_hint(where, found)
        click.echo(f"(noted in {record}; hints never change your score)")
    except OSError as exc:
        click.echo(f"note: this hint could not be noted in {where / '.grader'} ({exc.strerror})", err=True)
