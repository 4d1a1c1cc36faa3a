"""`grader release`: the learner bundle has lessons, notebooks and public checks, and no secrets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from helpers import solution_source

import grader.instructor.release as release
from grader.cli.main import cli
from grader.course.exercises import EXERCISES, PROJECT_ROOT
from grader.instructor.release import build_release, verify_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "bundle"
    result = CliRunner().invoke(cli, ["release", str(out)])
    assert result.exit_code == 0, result.output
    assert "no solutions, no hidden checks" in result.output
    return out


def test_the_bundle_holds_lessons_notebooks_and_public_checks_only(bundle):
    for exercise in EXERCISES:
        assert (bundle / "exercises" / exercise.filename).read_text() == (
            PROJECT_ROOT / "exercises" / exercise.filename).read_text()
        nbformat.validate(nbformat.read(bundle / "notebooks" / f"{exercise.module}.ipynb", as_version=4))
    public = sorted(p.name for p in (PROJECT_ROOT / "grader/checks/public").glob("test_*.py"))
    assert public and sorted(p.name for p in (bundle / "grader/checks/public").glob("test_*.py")) == public
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*")}
    assert not any("solution" in n or "hidden" in n for n in names), sorted(names)
    assert not (bundle / "grader" / "instructor").exists() and not list((bundle / "grader" / "cli").glob("instructor*"))
    assert (bundle / "grader" / "cli" / "main.py").exists() and (bundle / "grader" / "engine" / "inside" / "worker.py").exists()
    declared = (bundle / "pyproject.toml").read_text()
    assert '"grader.checks.public"' in declared and '"grader.cli"' in declared
    assert "hidden" not in declared and "instructor" not in declared
    assert verify_bundle(bundle) == []


def test_a_learner_can_run_grader_check_from_the_bundle(bundle, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(bundle)}
    where = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert where.stdout.strip() == str(bundle / "grader" / "__init__.py")
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli.main", "check", "--dir", str(bundle / "exercises"), "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stderr
    exercises = json.loads(result.stdout)["exercises"]
    assert [e["id"] for e in exercises] == [e.id for e in EXERCISES]
    for exercise in exercises:
        assert exercise["max_points"] > 0 and exercise["status"] == "not_attempted", exercise
        assert {t["visibility"] for t in exercise["tests"]} == {"public"}


def test_verify_finds_planted_solutions_and_hidden_checks(bundle, tmp_path):
    leaky = tmp_path / "leaky"
    shutil.copytree(bundle, leaky)
    (leaky / "exercises" / "ex03_activations.py").write_text(solution_source("ex03"))
    hidden = next((PROJECT_ROOT / "grader/checks/hidden").glob("test_ex02*.py"))
    shutil.copy(hidden, leaky / "grader/checks/public" / "test_ex02_more.py")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Layers"),
                      nbformat.v4.new_code_cell(solution_source("ex04") + "\nprint('done')\n")]
    nbformat.write(notebook, str(leaky / "notebooks" / "ex04_layers.ipynb"))
    (leaky / "grader" / "peek.py").write_text("from grader.checks.hidden import reference\n")
    problems = "\n".join(verify_bundle(leaky))
    assert "exercises/ex03_activations.py: is a copy of solutions/ex03_activations.py" in problems
    assert "test_ex02_more.py: is a copy of grader/checks/hidden/" in problems
    assert "notebooks/ex04_layers.ipynb: holds" in problems and "solutions/ex04_layers.py" in problems
    assert "peek.py: refers to grader.checks.hidden" in problems


def test_a_leaky_release_is_blocked_loudly_and_nothing_is_released(monkeypatch, tmp_path):
    monkeypatch.setattr(release, "_EXERCISES", PROJECT_ROOT / "solutions")  # a wrong folder
    result = CliRunner().invoke(cli, ["release", str(tmp_path / "bundle")])
    assert result.exit_code == 1
    assert "RELEASE BLOCKED" in result.output and "solutions/" in result.output
    assert not (tmp_path / "bundle").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no staging folder left behind


def test_release_refuses_to_overwrite_without_force(bundle, tmp_path):
    target = tmp_path / "b"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    result = CliRunner().invoke(cli, ["release", str(target)])
    assert result.exit_code == 2 and "--force" in result.output
    built = build_release(target, force=True)
    assert built.exercises == len(EXERCISES) and not (target / "keep.txt").exists()
