"""Render results for people: the learner's terminal, and Markdown feedback.

Hidden checks show only their name and score unless the instructor reveals them.
Everything printed is a ``rich.text.Text`` built from :func:`grader.checking.inert.inert`
text: learner-derived text never reaches the terminal as escape sequences or rich markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from grader.checking.inert import inert, inert_line
from grader.checking.outcomes import ExerciseResult, RunResult, Status, TestResult
from grader.checking.printed import LABEL, visible_printed

__all__ = ["render_terminal", "STATUS_WORDS", "visible_feedback"]

STATUS_WORDS = {
    Status.PASSED: ("passed", "green"),
    Status.FAILED: ("failed", "red"),
    Status.ERROR: ("error", "red"),
    Status.TIMEOUT: ("timed out", "yellow"),
    Status.NOT_ATTEMPTED: ("not attempted", "dim"),
}


def visible_feedback(test: TestResult, reveal_hidden: bool) -> str:
    """What a learner may read about one check."""
    if test.visibility == "hidden" and not reveal_hidden:
        return ""
    return test.feedback


def _exercise_line(exercise: ExerciseResult) -> Text:
    word, colour = STATUS_WORDS[exercise.status]
    line = Text()
    line.append(f"{inert_line(exercise.id)}  ", style="bold")
    line.append(f"{inert_line(exercise.title):<48.48} ")
    line.append(f"{exercise.points:g}/{exercise.max_points:g}".rjust(8))
    line.append(f"  {word}", style=colour)
    return line


def _print(console: Console, *parts: tuple[str, str]) -> None:
    """One line from (text, style) parts, each part made inert; nothing is parsed as markup."""
    line = Text()
    for text, style in parts:
        line.append(inert_line(text), style=style)
    console.print(line)


def render_terminal(result: RunResult, console: Console, reveal_hidden: bool = False) -> None:
    """One line per exercise, then what went wrong and what to try."""
    for exercise in result.exercises:
        console.print(_exercise_line(exercise))
        for note in exercise.notes:
            _print(console, (f"      note: {note}", "dim"))
        if exercise.status is Status.NOT_ATTEMPTED:
            continue
        for test in exercise.tests:
            if test.status is Status.PASSED:
                continue
            word, colour = STATUS_WORDS[test.status]
            label = "hidden check" if test.visibility == "hidden" else "check"
            _print(console, ("    ", ""), (f"✗ {word}", colour), (f" {label} ", ""), (test.name, "bold"),
                   (f" ({test.points:g}/{test.max_points:g})", ""))
            for line in inert(visible_feedback(test, reveal_hidden)).splitlines():
                _print(console, (f"        {line}", ""))
            printed = visible_printed(test, reveal_hidden)
            if printed:
                _print(console, (f"        {LABEL}:", "cyan"))
                for line in inert(printed).splitlines():
                    _print(console, (f"        │ {line}", "cyan"))
    for note in result.notes:
        _print(console, (f"note: {note}", "yellow"))
    public = [t for e in result.exercises for t in e.tests if t.visibility == "public"]
    hidden = [t for e in result.exercises for t in e.tests if t.visibility == "hidden"]
    summary = f"public checks: {sum(t.points for t in public):g}/{sum(t.max_points for t in public):g} points"
    if hidden:
        summary += f" — hidden checks: {sum(t.points for t in hidden):g}/{sum(t.max_points for t in hidden):g} points"
    else:
        summary += " — hidden checks run at grading time"
    _print(console, (summary, "bold"))
