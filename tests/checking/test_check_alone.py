"""`grader check exNN` on its own scores exactly what exNN scores in a full check.

ex07 imports the learner's ex06; checking ex07 alone used to give 0/6 "not attempted"
even on the solutions, because only the named exercise's file was loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course.exercises import EXERCISES, PROJECT_ROOT

# ex08 imports no other lesson and trains for ~30 s: its own tests check it alone.
CHEAP = tuple(e.id for e in EXERCISES if e.id != "ex08")


def _check(folder: Path, *exercises: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-m", "grader.cli.main", "check", *exercises, "--dir", str(folder),
                           "--json"], capture_output=True, text=True, timeout=600, env=os.environ.copy())
    assert done.returncode in (0, 1), done.stderr[-2000:]
    result = json.loads(done.stdout)
    return {e["id"]: e["points"] for e in result["exercises"]}


@pytest.fixture(scope="module")
def full_check() -> dict[str, float]:
    return _check(PROJECT_ROOT / "solutions", *CHEAP)


@pytest.mark.parametrize("exercise", CHEAP)
def test_each_exercise_alone_scores_what_it_scores_in_a_full_check(exercise: str,
                                                                     full_check: dict[str, float]) -> None:
    alone = _check(PROJECT_ROOT / "solutions", exercise)
    assert list(alone) == [exercise]
    assert alone[exercise] == full_check[exercise] > 0


def test_ex07_alone_with_a_wrong_ex06_names_ex06(tmp_path: Path) -> None:
    for name in ("ex06_backprop.py", "ex07_gradient_descent.py"):
        shutil.copy(PROJECT_ROOT / "solutions" / name, tmp_path / name)
    ex06 = tmp_path / "ex06_backprop.py"
    source = ex06.read_text()
    assert "def backward(" in source
    ex06.write_text(source.replace("def backward(", "def backward_unused(", 1)
                    + "\n\ndef backward(*args, **kwargs):\n    raise ValueError('my backward is broken')\n")
    done = subprocess.run([sys.executable, "-m", "grader.cli.main", "check", "ex07", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert "ex06" in done.stdout
    assert "not attempted" not in done.stdout.lower()
