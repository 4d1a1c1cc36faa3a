"""The learner's commands: ``check``, ``list`` and ``notebooks``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from grader.cli.errors import ExitCode, UsageProblem
from grader.course.exercises import EXERCISES, Exercise, UnknownExercise, find_exercise

if TYPE_CHECKING:
    from grader.checking.submission import SubmissionFiles

__all__ = ["check", "list_exercises", "notebooks"]


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


@click.command()
@click.argument("exercises", nargs=-1)
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("exercises"),
              show_default=True, help="Folder holding your exercise files (.py or .ipynb).")
@click.option("--json", "as_json", is_flag=True, help="Print the result model as JSON.")
@click.option("--hidden", is_flag=True, help="Instructors: also run the hidden checks.")
@click.option("--seed", type=int, default=None, help="Seed for the hidden checks' inputs.")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=None,
              help="Seconds each call to your code may take (default 10).")
def check(exercises: tuple[str, ...], folder: Path, as_json: bool, hidden: bool,
          seed: int | None, timeout: float | None) -> None:
    """Run the checks on your exercise files and explain what to fix.

    EXERCISES are ids such as ex03 (or 3, or ex03_activations); default: all.
    Your code runs in a separate process with time limits; the checks never
    run inside it.
    """
    from grader.checking.session import LearnerSession
    from grader.checking.submission import load_submission
    from grader.engine.launch import Limits, Policy

    chosen = _select(exercises)
    files = load_submission(_folder(folder, "the exercise folder"), chosen)
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
        result = run_checks(files, chosen, RunOptions(hidden=hidden, seed=seed, policy=policy), session)
    finally:
        session.close()
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        from rich.console import Console

        from grader.checking.terminal import render_terminal

        render_terminal(result, Console(highlight=False, soft_wrap=True), reveal_hidden=True)
    sys.exit(ExitCode.OK if result.all_passed else ExitCode.CHECKS_FAILED)


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

    from grader.checking.runner import collect_points
    from grader.checking.submission import load_submission

    files = load_submission(folder) if folder.is_dir() else None
    points = collect_points(hidden=True)
    table = Table("exercise", "title", "public", "hidden", "your file")
    for exercise in EXERCISES:
        public, hidden = points.get(exercise.id, (0.0, 0.0))
        table.add_row(exercise.id, exercise.title, f"{public:g}", f"{hidden:g}" if hidden else "-",
                      _file_state(files, exercise))
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
