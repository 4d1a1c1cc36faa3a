"""`grader watch`: which saves trigger which checks, a stable report, and a real watcher process
that sees real file changes and stops cleanly on Ctrl-C (SIGINT), leaving no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from click.testing import CliRunner

from helpers import apply_mistake, solution_source, stub_source
from grader.checking.outcomes import ExerciseResult, Status, TestResult
from grader.checking.submission import load_submission
from grader.checking.watch import exercises_to_run, is_exercise_file, render_run
from grader.cli.main import cli
from grader.course.exercises import PROJECT_ROOT, find_exercise


def test_which_saves_trigger_which_exercises(tmp_path: Path) -> None:
    for exercise in ("ex03", "ex06", "ex07"):
        (tmp_path / find_exercise(exercise).filename).write_text(stub_source(exercise))
    files = load_submission(tmp_path)
    ids = lambda changed, only=None: [e.id for e in exercises_to_run(changed, files, only)]  # noqa: E731
    assert ids([tmp_path / "ex03_activations.py"]) == ["ex03"]
    assert ids([tmp_path / "ex06_backprop.py"]) == ["ex06", "ex07"], "ex07 imports ex06"
    assert ids([tmp_path / "ex06_backprop.py"], find_exercise("ex07")) == ["ex07"]
    assert ids([tmp_path / "ex03_activations.py"], find_exercise("ex07")) == []
    assert ids([tmp_path / "notes.txt", tmp_path / ".grader" / "hints.json"]) == []
    assert not is_exercise_file(tmp_path / ".ipynb_checkpoints" / "ex03_activations-checkpoint.ipynb")
    assert not is_exercise_file(tmp_path / "ex03_activations.py~")
    assert is_exercise_file(tmp_path / "ex03_activations.ipynb")


def _result(statuses: list[Status]) -> ExerciseResult:
    tests = tuple(TestResult("ex03", f"check number {i}", "public", 2.0 if s is Status.PASSED else 0.0, 2.0, s,
                             "" if s is Status.PASSED else "values are wrong\nexpected: 1")
                  for i, s in enumerate(statuses))
    return ExerciseResult("ex03", "Activation functions", tests)


def test_report_has_a_stable_layout_and_says_what_changed() -> None:
    first = _result([Status.FAILED, Status.PASSED, Status.FAILED])
    second = _result([Status.PASSED, Status.FAILED, Status.FAILED])
    one = render_run(first, None, 1, 0.5, "10:00:00")
    two = render_run(second, first, 2, 0.4, "10:00:05")
    assert one[-1] == "  changes: first run"
    rows = lambda lines: [line[:4] for line in lines if "check number" in line]  # noqa: E731
    assert len(rows(one)) == len(rows(two)) == 3, "one line per check, every run"
    assert [line.index("check number") for line in one if "check number" in line] == \
           [line.index("check number") for line in two if "check number" in line]
    assert "check number 0" in next(line for line in two if "newly passing" in line)
    assert "check number 1" in next(line for line in two if "newly failing" in line)
    assert two[-1] == "  changes: +0 points, newly passing: 1, newly failing: 1"
    assert render_run(second, second, 3, 0.4, "10:00:09")[-1] == "  changes: none since the last run"
    assert "expected: 1" not in "\n".join(two), "compact: the first line of each failure only"


def test_watch_help_and_bad_input() -> None:
    result = CliRunner().invoke(cli, ["watch", "--help"])
    assert result.exit_code == 0 and "Ctrl-C" in result.output and "every save" in result.output
    bad = CliRunner().invoke(cli, ["watch", "ex99", "--dir", "."])
    assert bad.exit_code == 2 and "unknown exercise" in bad.output
    missing = CliRunner().invoke(cli, ["watch", "ex03", "--dir", "/nonexistent/folder"])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_watch_rechecks_on_a_real_save_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    target = tmp_path / find_exercise("ex03").filename
    target.write_text(stub_source("ex03"))
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    process = subprocess.Popen([sys.executable, "-m", "grader.cli.main", "watch", "ex03", "--dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()

    def wait_for(words: str, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = "".join(lines)
            if words in text:
                return text
            assert process.poll() is None, f"grader watch exited early: {process.stderr.read()}"
            time.sleep(0.1)
        raise AssertionError(f"no {words!r} in the output:\n{''.join(lines)}")

    try:
        wait_for("── run 1 ")
        assert "not attempted" in "".join(lines)
        target.write_text(solution_source("ex03"))
        text = wait_for("── run 2 ")
        wait_for("changes: +")
        run2 = text[text.index("── run 2 "):]
        assert "10/10 points" in run2 or "newly passing" in "".join(lines)
        target.write_text(apply_mistake(solution_source("ex03"),
                                        ("return 1.0 / (1.0 + tf.exp(-x))", "return 1.0 / (1.0 + tf.exp(x))")))
        wait_for("newly failing")
        helpers = _descendants(process.pid)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = process.stderr.read()
    assert "Traceback" not in stderr and "stopped watching after 3 runs" in stderr, stderr
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in helpers if _alive(pid)], "grader watch left processes behind"
