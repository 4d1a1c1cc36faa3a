"""A check's visibility comes from its folder inside the checks package, not from where the project lives."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader.checking.runner import CHECKS_DIR, visibility_of
from grader.course.exercises import PROJECT_ROOT


def test_visibility_reads_the_folder_inside_the_checks_package() -> None:
    assert visibility_of(CHECKS_DIR / "public" / "test_ex01_tensors.py") == "public"
    assert visibility_of(CHECKS_DIR / "hidden" / "test_ex01_tensors.py") == "hidden"


def test_a_project_installed_under_a_folder_named_hidden_keeps_its_public_feedback(tmp_path: Path) -> None:
    copy = tmp_path / "hidden" / "course"
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache")
    for name in ("grader", "solutions", "exercises"):
        shutil.copytree(PROJECT_ROOT / name, copy / name, ignore=ignore)
    (copy / "solutions" / "ex01_tensors.py").write_text(
        (PROJECT_ROOT / "solutions" / "ex01_tensors.py").read_text().replace("rank = int(tensor.shape.rank)", "rank = int(tensor.shape.rank) + 1")
    )
    env = {**os.environ, "PYTHONPATH": str(copy)}
    done = subprocess.run([sys.executable, "-m", "grader.cli.main", "check", "ex01", "--dir", "solutions", "--json"],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    result = json.loads(done.stdout)
    tests = [t for e in result["exercises"] for t in e["tests"]]
    assert tests and {t["visibility"] for t in tests} == {"public"}
    failed = [t for t in tests if t["status"] != "passed"]
    assert failed, "the planted mistake in the copy should fail a public check"
    assert all(t["feedback"] for t in failed), "public feedback was hidden"


def test_points_are_split_by_the_folder_inside_the_checks_package(tmp_path: Path) -> None:
    """collect_points (the gradebook's public/hidden maxima) follows the same rule."""
    from grader.checking.runner import collect_points

    copy = tmp_path / "hidden" / "course"
    shutil.copytree(PROJECT_ROOT / "grader", copy / "grader",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    code = "import json; from grader.checking.runner import collect_points; print(json.dumps(collect_points()))"
    done = subprocess.run([sys.executable, "-c", code], cwd=copy, env={**os.environ, "PYTHONPATH": str(copy)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    here = {k: list(v) for k, v in collect_points().items()}
    there = json.loads(done.stdout.strip().splitlines()[-1])
    assert there == here
    assert all(public > 0 and hidden > 0 for public, hidden in here.values()), here
