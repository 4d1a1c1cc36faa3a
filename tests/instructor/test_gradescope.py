"""`grader gradescope`: the autograder zip, run against a fake /autograder tree."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

from click.testing import CliRunner
from helpers import solution_source, stub_source
from gradescope_schema import assert_gradescope_results

from grader.checking.outcomes import ExerciseResult, RunResult, Status, TestResult
from grader.cli.main import cli
from grader.instructor.gradebook import gradescope_results


def _autograder(tmp_path: Path, submission: dict[str, str], *options: str) -> Path:
    """Build the zip, unpack it as Gradescope does, add a submission; return the root."""
    zip_path = tmp_path / "autograder.zip"
    result = CliRunner().invoke(cli, ["gradescope", str(zip_path), *options])
    assert result.exit_code == 0, result.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        archive.extractall(root / "source")
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    setup = (root / "source" / "setup.sh").read_text()
    assert "pip install" in setup and setup.index("install_bubblewrap.sh") < setup.index("pip install")
    assert modes["install_bubblewrap.sh"] & stat.S_IXUSR
    assert any(n.startswith("grader/checks/hidden/test_") for n in modes)
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    for name, text in submission.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)
    return root


LOGS: dict[Path, str] = {}  # run_autograder's stdout per root (Gradescope keeps it for the instructor)


def _run(root: Path, **env: str) -> dict:
    result = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env={**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": sys.executable,
             "GRADER_SEED": "3", **env},
        capture_output=True, text=True, timeout=600, cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    LOGS[root] = result.stdout
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_grades_the_submission_with_hidden_checks(tmp_path):
    root = _autograder(tmp_path, {"work/ex02_neuron.py": solution_source("ex02"),
                                  "ex03_activations.py": stub_source("ex03")},
                       "--exercises", "ex02,ex03")
    results = _run(root)
    assert_gradescope_results(results)
    ex02 = [t for t in results["tests"] if t["name"].startswith("ex02")]
    ex03 = [t for t in results["tests"] if t["name"].startswith("ex03")]
    assert ex02 and all(t["score"] == t["max_score"] > 0 for t in ex02)
    assert ex03 and all(t["score"] == 0 for t in ex03)
    assert results["score"] == sum(t["max_score"] for t in ex02)
    hidden = [t for t in results["tests"] if t["visibility"] == "after_published"]
    assert hidden and all("hidden" in t["name"] and t["output"] == "" for t in hidden)
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert "not attempted" in results["output"]
    assert results["output_format"] == "md" and {t["output_format"] for t in results["tests"]} == {"md"}
    # The instructor's log says which sandbox defences guarded this submission.
    from grader.checking.job import grading_policy
    from grader.engine.launch import describe_defences

    active, missing = describe_defences(grading_policy(None, None))
    log = LOGS[root]
    assert f"sandbox defences active: {', '.join(active) or 'none'}" in log, log
    assert all(f"MISSING here: {d}" in log for d in missing)


def test_run_autograder_always_writes_results(tmp_path):
    root = _autograder(tmp_path, {}, "--exercises", "ex02")
    (root / "submission").rmdir()
    results = _run(root)
    assert_gradescope_results(results)
    assert results["score"] == 0 and "could not grade" in results["output"]


def test_results_json_types_and_hidden_details():
    tests = (
        TestResult("ex03", "softmax rows sum to 1", "public", 0.0, 2.0, Status.FAILED,
                   "rows must sum to 1\nexpected: 1.0"),
        TestResult("ex03", "softmax on random batches", "hidden", 0.0, 3.0, Status.FAILED,
                   "expected [0.1 0.9] for the secret input"),
        TestResult("ex03", "relu", "public", 1, 1, Status.PASSED),
    )
    run = RunResult((ExerciseResult("ex03", "Activation functions", tests),))
    hidden = gradescope_results(run, 1.5)
    assert_gradescope_results(hidden)
    assert hidden["score"] == 1.0 and isinstance(hidden["score"], float)
    by_name = {t["name"]: t for t in hidden["tests"]}
    assert "rows must sum to 1" in by_name["ex03 · softmax rows sum to 1"]["output"]
    secret = by_name["ex03 · hidden: softmax on random batches"]
    assert secret["output"] == "" and secret["visibility"] == "after_published"
    assert secret["max_score"] == 3.0 and secret["status"] == "failed"
    revealed = gradescope_results(run, 1.5, reveal_hidden=True)
    assert "secret input" in {t["name"]: t for t in revealed["tests"]}[secret["name"]]["output"]
