"""Gradescope's side: grade ``ROOT/submission`` and write ``ROOT/results/results.json``.

Run by the ``run_autograder`` script of the zip that ``grader gradescope`` builds::

    python -m grader.instructor.gradescope --root /autograder --config /autograder/source/grader_config.json

``ROOT`` defaults to ``$GRADER_AUTOGRADER_ROOT``, else ``/autograder``, so a test can run
it against a fake tree. The submission is graded by the same job as ``grader grade``
(public and hidden checks, learner code in an isolated child). A results file is
written whatever happens, so Gradescope never shows "no results".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.checking.job import GradeJob, default_budget, grade_learner, ungraded
from grader.checking.runner import hidden_seed
from grader.course.exercises import EXERCISES, find_exercise
from grader.instructor.gradebook import atomic_write, gradescope_results

__all__ = ["main", "grade_submission", "log_defences", "ROOT_ENV", "DEFAULT_ROOT"]

ROOT_ENV = "GRADER_AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"


def _job(root: Path, config: dict[str, Any], work: Path) -> GradeJob:
    exercises = tuple(find_exercise(e).id for e in config.get("exercises") or ()) or tuple(
        e.id for e in EXERCISES)
    return GradeJob(learner="submission", path=str(root / "submission"), kind="folder",
                    work_dir=str(work / "unpacked"), exercises=exercises, seed=hidden_seed()[0],
                    budget_s=default_budget(len(exercises)), call_timeout_s=config.get("call_timeout_s"))


def grade_submission(root: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Grade `root`/submission; return Gradescope's results dictionary."""
    work = Path(tempfile.mkdtemp(prefix="grader-autograder-"))
    try:
        job = _job(root, config, work)
        result = grade_learner(job) if (root / "submission").is_dir() else ungraded(
            job, f"the autograder could not grade this submission: {root / 'submission'} is not a "
                 "folder. Please tell your instructor")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return gradescope_results(result.result, result.duration_s, bool(config.get("reveal_hidden")),
                              result.reason)


def log_defences(config: dict[str, Any]) -> list[str]:
    """The sandbox defences that learner code runs under here, as lines for the stdout log.

    Gradescope keeps run_autograder's stdout for the instructor only (``results/stdout``).
    """
    try:
        from grader.checking.job import grading_policy
        from grader.engine.launch import describe_defences

        active, missing = describe_defences(grading_policy(config.get("call_timeout_s"), None))
    except Exception as exc:  # noqa: BLE001 - a log line; grading goes on and says the rest
        return [f"sandbox defences: could not be probed ({type(exc).__name__}: {exc})"]
    lines = [f"sandbox defences active: {', '.join(active) or 'none'}"]
    lines += [f"WARNING: sandbox defence MISSING here: {d}" for d in missing]
    if missing:
        lines.append("WARNING: see setup.sh's log: bubblewrap is installed there where the image allows")
    return lines


def _failure(message: str, started: float) -> dict[str, Any]:
    """When even the configuration cannot be read: a results file all the same."""
    return {"score": 0.0, "execution_time": round(time.monotonic() - started, 3), "output_format": "text",
            "output": f"The autograder could not grade this submission: {message}. "
                      "Please tell your instructor.", "tests": []}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_ENV, DEFAULT_ROOT)))
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    started = time.monotonic()
    results_file = args.root / "results" / "results.json"
    try:
        config = json.loads(args.config.read_text()) if args.config and args.config.is_file() else {}
        print("\n".join(log_defences(config)), flush=True)
        results = grade_submission(args.root, config)
    except Exception as exc:  # noqa: BLE001 - Gradescope must always get a results file
        results = _failure(f"{type(exc).__name__}: {exc}", started)
    from grader.checking.inert import inert_json  # learner text leaves here: no escapes, no controls

    atomic_write(results_file, json.dumps(inert_json(results), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {results_file}: {results['score']:g} points, {len(results['tests'])} tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
