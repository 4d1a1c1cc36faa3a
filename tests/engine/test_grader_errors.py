"""A grader-side failure is never a learner's score (issue 9, finding 6).

The failure is real: the test freezes the worker's zygote (SIGSTOP) once it has forked
a learner's child, so the grader's next control request gets no answer, exactly as when
a slow clean-up outlasts the control timeout. The learner is then retried once on a
fresh zygote; when that fails too, the row says ``grader_error``, carries no score, is
not journaled as done, and the next ``grader grade`` grades the learner.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers import solution_source

from grader.checking.job import GradeJob, grade_learner
from grader.checking.outcomes import Grading
from grader.course.exercises import find_exercise
from grader.instructor.journal import JOURNAL_NAME

GRADER = [shutil.which("grader") or sys.executable, *([] if shutil.which("grader") else ["-m", "grader.cli.main"])]
EXERCISES = ("ex01", "ex02")  # two exercises: the second child is asked of a frozen zygote


def _proc_pairs() -> dict[int, int]:
    """pid -> parent pid for every process we can see."""
    pairs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            pairs[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    return pairs


def _is_python_zygote(pid: int) -> bool:
    """Python running the zygote (or a learner child it forked: same command line)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"grader.engine.inside.zygote_main" in argv and b"python" in Path(argv[0].decode(errors="replace")).name.encode()


def _is_zygote(pid: int, parents: dict[int, int]) -> bool:
    """The zygote itself: not a child forked from one (bwrap or unshare may sit above it)."""
    return _is_python_zygote(pid) and not _is_python_zygote(parents.get(pid, 0))


def _descends_from(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = parents.get(pid, 0)
    return False


@contextmanager
def freezing_zygotes(count: int) -> Iterator[list[int]]:
    """SIGSTOP each of the first `count` zygotes of ours once it has forked a learner child."""
    frozen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        me = os.getpid()
        while not stop.wait(0.05) and len(frozen) < count:
            parents = _proc_pairs()
            for pid in parents:
                if pid in frozen or not _is_zygote(pid, parents) or not _descends_from(pid, me, parents):
                    continue
                if any(parent == pid for parent in parents.values()):  # it has forked a child
                    os.kill(pid, signal.SIGSTOP)
                    frozen.append(pid)
                    break

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield frozen
    finally:
        stop.set()
        thread.join()
        for pid in frozen:  # never leave a stopped process behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _learner(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for exercise in EXERCISES:
        (folder / find_exercise(exercise).filename).write_text(solution_source(exercise))
    return folder


def test_a_frozen_zygote_costs_the_learner_nothing(tmp_path):
    folder = _learner(tmp_path / "ann")
    job = GradeJob("ann", str(folder), "folder", str(tmp_path / "work"), EXERCISES, 3, budget_s=400.0)
    with freezing_zygotes(1) as frozen:
        result = grade_learner(job)
    assert frozen, "no zygote was frozen: the test proves nothing"
    assert result.grading is Grading.GRADED, result.reason
    assert result.result.points == result.result.max_points > 0  # a solution, graded on the retry
    feedback = " ".join(t.feedback for e in result.result.exercises for t in e.tests)
    assert "zygote" not in feedback


def test_a_grader_error_is_no_score_and_is_regraded_on_the_next_run(tmp_path):
    submissions = tmp_path / "submissions"
    _learner(submissions / "bob")
    out = tmp_path / "out"
    command = [*GRADER, "grade", str(submissions), "-o", str(out), "--workers", "1",
               "--exercises", ",".join(EXERCISES), "--seed", "3"]
    with freezing_zygotes(2) as frozen:  # the first attempt and the retry both fail
        first = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert len(frozen) == 2, first.stderr[-2000:]
    assert first.returncode == 0, first.stderr[-2000:]
    result = json.loads((out / "bob" / "result.json").read_text())
    assert result["grading"] == "grader_error" and "grader error" in result["reason"]
    row = next(r for r in csv.DictReader(open(out / "grades.csv", newline="", encoding="utf-8-sig")) if r["learner"] == "bob")
    assert row["total"] == "" and "grader error" in row["notes"]  # no score, and it says why
    with sqlite3.connect(out / JOURNAL_NAME) as db:
        assert db.execute("SELECT job_key FROM learners WHERE learner = 'bob'").fetchone() == (None,)

    second = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "1 to grade" in second.stderr
    result = json.loads((out / "bob" / "result.json").read_text())
    assert result["grading"] == "graded" and result["points"] == result["max_points"] > 0


def test_a_crash_of_our_own_code_is_a_grader_error_not_a_zero(tmp_path):
    """The grader's work folder is unusable (a file sits where it must unpack): our failure."""
    import zipfile

    entry = tmp_path / "carol.zip"
    with zipfile.ZipFile(entry, "w") as archive:
        archive.writestr(find_exercise("ex01").filename, solution_source("ex01"))
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    job = GradeJob("carol", str(entry), "zip", str(blocker / "unpacked"), ("ex01",), 3, budget_s=60.0)
    result = grade_learner(job)
    assert result.grading is Grading.GRADER_ERROR
    assert "grader error" in result.reason and "graded again" in result.reason
    assert result.result.points == 0 and result.result.max_points > 0  # the row still lists the checks
