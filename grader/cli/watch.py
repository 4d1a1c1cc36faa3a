"""The learner's `grader watch`: re-check on every save."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from grader.cli.errors import UsageProblem
from grader.cli.learner import DIR_HELP, _select, exercise_folder

__all__ = ["watch"]


@click.command()
@click.argument("exercise", required=False)
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None, help=DIR_HELP)
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=None,
              help="Seconds each call to your code may take (default 10).")
def watch(exercise: str | None, folder: Path | None, timeout: float | None) -> None:
    """Re-run the checks every time you save an exercise file. Stop with Ctrl-C.

    \b
    grader watch ex03     check ex03 now, then again on every save of its file
    grader watch          check whichever exercise file you save

    TensorFlow is loaded once when watching starts; each save then costs only the checks
    (your code still runs in a fresh, separate process every time). The report keeps
    the same layout on every run and says what changed since the last one.
    """
    import watchfiles

    from grader.checking.watch import WatchState, exercises_to_run, is_exercise_file, run_once
    from grader.engine.zygote import close_zygotes

    only = _select((exercise,))[0] if exercise else None
    where = exercise_folder(folder)
    if not where.is_dir():
        raise UsageProblem(f"the exercise folder {where} is not a folder")
    state = WatchState()
    stop = threading.Event()
    try:
        click.echo(f"watching {where.resolve()} for changes to "
                   f"{only.id + ' (and the files it imports)' if only else 'any exercise file'}; Ctrl-C stops",
                   err=True)
        if only is not None:
            before = _stamps(where)
            _show(run_once(where, (only,), state, timeout))
            saved = [path for path, stamp in _stamps(where).items() if before.get(path) != stamp]
            if saved:  # saved while the first run (and TensorFlow's import) was going on
                from grader.checking.submission import load_submission

                chosen = exercises_to_run(saved, load_submission(where), only)
                if chosen:
                    _show(run_once(where, chosen, state, timeout))
        for changes in watchfiles.watch(where, watch_filter=lambda _, path: is_exercise_file(path),
                                        debounce=300, step=50, stop_event=stop, raise_interrupt=True,
                                        recursive=True):
            from grader.checking.submission import load_submission

            chosen = exercises_to_run([path for _, path in changes], load_submission(where), only)
            if chosen:
                _show(run_once(where, chosen, state, timeout))
    except KeyboardInterrupt:
        stop.set()
        click.echo(f"stopped watching after {state.runs} run{'s' if state.runs != 1 else ''}", err=True)
    finally:
        close_zygotes()


def _stamps(folder: Path) -> dict[str, int]:
    from grader.checking.watch import is_exercise_file

    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("ex*") if p.is_file() and is_exercise_file(p)}


def _show(lines: list[str]) -> None:
    click.echo("\n".join(lines) + "\n")
