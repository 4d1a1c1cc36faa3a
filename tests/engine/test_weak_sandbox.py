"""`grader grade` refuses a sandbox too weak for untrusted code, unless told otherwise.

Run through the real `grader` command, with the defences turned off the way a machine
without bubblewrap or unshare would lack them (GRADER_SANDBOX_DISABLE).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from grader.course.exercises import PROJECT_ROOT
from grader.engine.launch import Policy, missing_protections

WEAK = {"GRADER_SANDBOX_DISABLE": "bwrap,unshare"}


def _grade(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    learner = tmp_path / "subs" / "alice"
    learner.mkdir(parents=True)
    (learner / "ex01_tensors.py").write_text((PROJECT_ROOT / "exercises" / "ex01_tensors.py").read_text())
    env = {**os.environ, **WEAK}
    return subprocess.run([sys.executable, "-m", "grader.cli.main", "grade", str(tmp_path / "subs"), "-o",
                           str(tmp_path / "out"), "-e", "ex01", "--workers", "1", *extra],
                          env=env, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)


def test_grade_stops_before_grading_and_names_each_missing_defence(tmp_path: Path) -> None:
    done = _grade(tmp_path)
    assert done.returncode == 2, done.stderr
    for piece in ("filesystem view", "network namespace", "PID namespace", "solutions/", "to get it",
                  "--allow-weak-sandbox"):
        assert piece in done.stderr, done.stderr
    assert not (tmp_path / "out").exists(), "grading started although the sandbox is too weak"


def test_allow_weak_sandbox_grades_with_a_loud_warning(tmp_path: Path) -> None:
    done = _grade(tmp_path, "--allow-weak-sandbox")
    assert done.returncode == 0, done.stderr
    assert "WEAK sandbox" in done.stderr and "filesystem view" in done.stderr
    assert (tmp_path / "out" / "grades.csv").exists()


def test_the_learners_own_check_needs_no_sandbox() -> None:
    assert missing_protections(Policy(isolate=False)) == ()
