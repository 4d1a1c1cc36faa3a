"""The `grader` command, through click's runner and as the real installed command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from grader.cli.main import ExitCode, cli
from grader.course.exercises import EXERCISES, PROJECT_ROOT

GRADER = shutil.which("grader") or f"{sys.executable} -m grader.cli.main"


def run_grader(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    command = [*GRADER.split(), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_help_explains_the_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for word in ("check", "list", "grade"):
        assert word in result.output
    result = CliRunner().invoke(cli, ["check", "--help"])
    assert "--hidden" in result.output and "--json" in result.output


def test_unknown_exercise_and_missing_folder_are_usage_errors(tmp_path):
    result = CliRunner().invoke(cli, ["check", "ex99", "--dir", str(tmp_path)])
    assert result.exit_code == ExitCode.USAGE_ERROR
    assert "unknown exercise 'ex99'" in result.output
    result = CliRunner().invoke(cli, ["check", "--dir", str(tmp_path / "nope")])
    assert result.exit_code == ExitCode.USAGE_ERROR
    assert "does not exist" in result.output


def test_installed_command_on_the_stubs_reports_every_exercise_not_attempted():
    completed = run_grader("check", "--json", "--dir", "exercises")
    assert completed.returncode == ExitCode.CHECKS_FAILED, completed.stderr
    report = json.loads(completed.stdout)
    assert [e["id"] for e in report["exercises"]] == [e.id for e in EXERCISES]
    for exercise in report["exercises"]:
        assert exercise["status"] == "not_attempted", exercise
        assert exercise["points"] == 0 and exercise["max_points"] > 0
    assert report["points"] == 0


def test_installed_command_gives_the_solutions_full_marks():
    completed = run_grader("check", "--dir", "solutions", "ex01", "ex02", "ex03", "ex04", "ex05",
                           "ex06", "ex07")
    assert completed.returncode == ExitCode.OK, completed.stdout + completed.stderr
    assert "public checks:" in completed.stdout
    assert "failed" not in completed.stdout


def test_terminal_output_names_each_exercise_and_the_summary(tmp_path):
    completed = run_grader("check", "ex03", "--dir", str(tmp_path))
    assert completed.returncode == ExitCode.CHECKS_FAILED
    assert "ex03" in completed.stdout and "not attempted" in completed.stdout
    assert "hidden checks run at grading time" in completed.stdout


def test_list_shows_points_and_file_state():
    completed = run_grader("list", "--dir", "exercises")
    assert completed.returncode == 0, completed.stderr
    assert "ex08" in completed.stdout and "to do" in completed.stdout


def test_public_checks_leave_tensorflow_out_of_the_parent():
    """A learner's `grader check` costs one TensorFlow import (the child's), not two."""
    script = (
        "import sys; from pathlib import Path; from grader.course.exercises import EXERCISES;"
        "from grader.checking.runner import run_checks; from grader.checking.submission import load_submission;"
        "r = run_checks(load_submission(Path('solutions')), tuple(e for e in EXERCISES if e.id != 'ex08'));"
        "assert r.points == r.max_points > 0, r.to_dict();"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True,
                               text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.split() == ["False", "False"]
