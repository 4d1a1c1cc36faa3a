"""`grader grade` without the MNIST data stops before grading, in `grader check`'s words.

Before, a batch with ex08 selected graded everyone anyway, and a perfect ex08 silently
lost every data-dependent point. Both commands run for real, with MNIST_DIR and the
download cache pointing at empty folders and no way to download.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import solution_source

from grader.course.exercises import PROJECT_ROOT, find_exercise

GRADER = [shutil.which("grader") or sys.executable, *([] if shutil.which("grader") else ["-m", "grader.cli.main"])]
MESSAGE = "The MNIST data could not be found"


def _no_data_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "mnist").mkdir()
    (tmp_path / "cache").mkdir()
    return {**os.environ, "MNIST_DIR": str(tmp_path / "mnist"), "GRADER_CACHE": str(tmp_path / "cache"),
            "GRADER_MNIST_MIRRORS": "http://127.0.0.1:9/", "GRADER_MNIST_TFDS": "0",
            "PYTHONPATH": str(PROJECT_ROOT)}


def test_grade_stops_before_grading_when_ex08_has_no_data(tmp_path):
    env = _no_data_env(tmp_path)
    learner = tmp_path / "submissions" / "ann"
    learner.mkdir(parents=True)
    (learner / find_exercise("ex08").filename).write_text(solution_source("ex08"))
    out = tmp_path / "out"
    grade = subprocess.run([*GRADER, "grade", str(tmp_path / "submissions"), "-o", str(out),
                            "--exercises", "ex08", "--seed", "1"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert grade.returncode == 2, grade.stderr[-2000:]
    assert MESSAGE in grade.stderr and "this check needs the MNIST data" in grade.stderr
    assert not (out / "grades.csv").exists() and not (out / "ann").exists()

    check = subprocess.run([*GRADER, "check", "ex08", "--dir", str(learner), "--json"],
                           capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    feedback = [t["feedback"] for e in json.loads(check.stdout)["exercises"] for t in e["tests"]]
    same = [f for f in feedback if "this check needs the MNIST data" in f and MESSAGE in f]
    assert same, "grader check no longer says the same thing: keep both messages in step"


def test_grade_without_ex08_needs_no_data(tmp_path):
    env = _no_data_env(tmp_path)
    learner = tmp_path / "submissions" / "ann"
    learner.mkdir(parents=True)
    (learner / find_exercise("ex01").filename).write_text(solution_source("ex01"))
    grade = subprocess.run([*GRADER, "grade", str(tmp_path / "submissions"), "-o", str(tmp_path / "out"),
                            "--exercises", "ex01", "--seed", "1", "--workers", "1"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert grade.returncode == 0, grade.stderr[-2000:]
    assert MESSAGE not in grade.stderr
