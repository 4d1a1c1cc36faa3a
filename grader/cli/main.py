"""The `grader` command: a thin click group over the learner's and the instructor's commands.

Commands import downward only (checking/, instructor/, engine/, course/); nothing
imports this module back.
"""

from __future__ import annotations

import sys

import click

from grader import __version__
from grader.cli.errors import ExitCode

__all__ = ["main", "cli", "ExitCode"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def cli() -> None:
    """Check your deep-learning exercises, or grade a whole class.

    \b
    Learners:    grader check            (all exercises in ./exercises)
                 grader check ex03       (one exercise)
                 grader hint ex03        (a hint for the first failing check; --level 2 for more)
                 grader watch ex03       (re-check ex03 on every save)
                 grader list             (exercises, points, and your files)
    Instructors: grader grade SUBMISSIONS -o OUT
                 grader release OUT      (the learner bundle)
                 grader gradescope OUT.zip
                 grader report OUT       (OUT/report.html from the results)
                 grader lms canvas OUT --gradebook EXPORT.csv --assignment "Name (id)"
                 grader override OUT LEARNER CHECK POINTS --reason "..."
    """



def _add_commands() -> None:
    from grader.cli import learner, watch

    for command in (learner.check, learner.hint, watch.watch, learner.list_exercises, learner.notebooks):
        cli.add_command(command)
    try:  # the learner's bundle has no instructor commands
        from grader.cli import instructor
    except ImportError:
        return
    from grader.cli import classroom

    for command in (instructor.grade, instructor.release, instructor.gradescope, classroom.report,
                    classroom.lms, classroom.export, classroom.override):
        cli.add_command(command)


_add_commands()


def main() -> None:
    """Entry point: map every failure to an exit code, never a traceback from our code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        click.echo(f"grader: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("please report this with the command you ran", err=True)
        sys.exit(ExitCode.INTERNAL_ERROR)


if __name__ == "__main__":
    main()
