"""The behaviour pin: what `grader check --json` and `grader grade --seed` give, recorded.

``tests/fixtures/behaviour_pin.json`` holds, for every check, its status and points when
`grader check --json` runs on ``solutions/`` and on ``exercises/`` (public checks), and
when `grader grade` grades a small fixed class (ex02 and ex03, ``--seed 7``: public and
hidden checks). ``tests/test_behaviour_pin.py`` runs the same commands and compares.

After an intended change of behaviour, regenerate the file and review its diff:

    python tests/pin_behaviour.py --write
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from helpers import EXERCISES_DIR, SOLUTIONS, solution_source, solution_variant, stub_source, write_files

from grader.course.exercises import find_exercise

PIN_FILE = Path(__file__).resolve().parent / "fixtures" / "behaviour_pin.json"
GRADER = [shutil.which("grader") or sys.executable, *([] if shutil.which("grader") else ["-m", "grader.cli.main"])]
GRADE_ARGS = ["--workers", "2", "--exercises", "ex02,ex03", "--seed", "7", "--timeout", "10"]


def _tests(result: dict[str, Any]) -> list[list[Any]]:
    """[exercise, visibility, title, status, points, max points] of every check, in order."""
    return [[e["id"], t["visibility"], t["name"], t["status"], t["points"], t["max_points"]]
            for e in result["exercises"] for t in e["tests"]]


def check_snapshot(folder: Path) -> dict[str, Any]:
    """`grader check --json` on `folder`: its exit code and every check's outcome."""
    done = subprocess.run([*GRADER, "check", "--json", "--dir", str(folder)], capture_output=True,
                          text=True, timeout=1500)
    assert done.stdout.strip(), done.stderr[-3000:]
    return {"exit_code": done.returncode, "tests": _tests(json.loads(done.stdout))}


def build_class(root: Path) -> None:
    """A small fixed class: right, untouched, a typical mistake, a crash, junk, nothing."""
    e2, e3 = find_exercise("ex02").filename, find_exercise("ex03").filename
    s2, s3 = solution_source("ex02"), solution_source("ex03")
    learners = {
        "alice_full": {e2: s2, e3: s3},
        "gina_stubs": {e2: stub_source("ex02"), e3: stub_source("ex03")},
        "hank_no_bias": {e2: solution_variant("ex02", "keepdims=True) + b", "keepdims=True)"), e3: s3},
        "ivy_softmax_axis0": {e2: s2, e3: solution_variant("ex03", "exponentials, axis=-1", "exponentials, axis=0")},
        "mia_crash": {e2: s2, e3: solution_variant("ex03", "    return 1.0 / (1.0 + tf.exp(-x))",
                                           "    import os\n    os._exit(3)")},
    }
    for name, files in learners.items():
        write_files(root / name, files)
    (root / "empty_folder").mkdir()
    (root / "readme.txt").write_text("not a submission")


def grade_snapshot(work: Path) -> dict[str, Any]:
    """`grader grade` on the fixed class: each learner's grading, reason and check outcomes."""
    build_class(work / "submissions")
    done = subprocess.run([*GRADER, "grade", str(work / "submissions"), "-o", str(work / "out"), *GRADE_ARGS],
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    learners = {}
    for path in sorted((work / "out").glob("*/result.json")):
        result = json.loads(path.read_text("utf-8"))
        learners[result["learner"]] = {"grading": result["grading"], "reason": result["reason"],
                                       "points": result["points"], "tests": _tests(result)}
    return {"exit_code": done.returncode, "learners": learners}


def snapshot() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="grader-pin-") as work:
        return {"check solutions/": check_snapshot(SOLUTIONS),
                "check exercises/": check_snapshot(EXERCISES_DIR),
                "grade --seed 7": grade_snapshot(Path(work))}


def dump(value: Any, indent: int = 0) -> str:
    """JSON with one check per line, so that a diff of the record reads check by check."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        items = [f'{pad} {json.dumps(k, ensure_ascii=False)}: {dump(v, indent + 1).lstrip()}' for k, v in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and isinstance(value[0], list):
        rows = [f"{pad} {json.dumps(row, ensure_ascii=False)}" for row in value]
        return pad + "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    return pad + json.dumps(value, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"write {PIN_FILE.name} (else print)")
    args = parser.parse_args(argv)
    text = dump(snapshot()) + "\n"
    if args.write:
        PIN_FILE.parent.mkdir(parents=True, exist_ok=True)
        PIN_FILE.write_text(text, "utf-8")
        print(f"wrote {PIN_FILE}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
