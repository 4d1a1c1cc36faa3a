"""Grading on Dask against the local pool: same class, same seed, one run each.

Usage: python benchmarks/bench_cluster.py [--learners 40] [--exercises ex01,...,ex07]

Grades one class with `grader grade --workers 2` (the local pool), `--cluster local:1` and
`--cluster local:2`, checks that all three grades.csv are byte-identical, and reports learners
per second, the speed-up of local:2 over local:1, Dask's overhead per learner against the pool,
and the fixed cost of starting a LocalCluster with its warm zygotes (measured apart).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from datetime import datetime

from _timing import hardware, wall
from bench_batch import SEVEN, build_class

ROOT = Path(__file__).resolve().parent.parent


def cluster_start(workers: int, exercises: tuple[str, ...]) -> float:
    """Seconds to start a LocalCluster of `workers`, check it, warm its zygotes, and close it."""
    sys.path.insert(0, str(ROOT))
    from grader.instructor.cluster import ClusterTarget, open_client

    started = time.perf_counter()
    with open_client(ClusterTarget(local_workers=workers), exercises):
        ready = time.perf_counter() - started
    return ready


def grading_phase(out: Path) -> float:
    """Seconds from the first learner's start to the last one's end (start stamps are whole seconds)."""
    spans = []
    for path in out.glob("*/result.json"):
        timings = json.loads(path.read_text())["timings"]
        start = datetime.fromisoformat(timings["started"]).timestamp()
        spans.append((start, start + timings["duration_s"]))
    return max(end for _, end in spans) - min(start for start, _ in spans) if spans else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--exercises", default=",".join(SEVEN))
    args = parser.parse_args()
    grader = shutil.which("grader") or sys.exit("install the project first (pip install -e '.[cluster]')")
    exercises = tuple(args.exercises.split(","))
    runs = {"pool --workers 2": ["--workers", "2"], "--cluster local:1": ["--cluster", "local:1"],
            "--cluster local:2": ["--cluster", "local:2"]}
    walls: dict[str, float] = {}
    grades: dict[str, bytes] = {}
    phases: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        submissions = Path(tmp) / "submissions"
        build_class(submissions, args.learners)
        for name, extra in runs.items():
            out = Path(tmp) / name.replace(" ", "_").replace(":", "")
            walls[name] = wall([grader, "grade", str(submissions), "-o", str(out), "--seed", "1",
                                "--exercises", args.exercises, *extra])
            grades[name] = (out / "grades.csv").read_bytes() if (out / "grades.csv").exists() else b""
            phases[name] = grading_phase(out)
    start2 = cluster_start(2, exercises)
    print(f"hardware: {hardware()}")
    print(f"{args.learners} learners x {len(exercises)} exercises ({args.exercises}), one run each:")
    for name, seconds in walls.items():
        print(f"  {name:18s} {seconds:6.1f} s  {args.learners / seconds:5.2f} learners/s; grading phase "
              f"{phases[name]:5.1f} s ({args.learners / max(phases[name], 1e-9):5.2f} learners/s, +-1 s)")
    speedup = walls["--cluster local:1"] / walls["--cluster local:2"]
    print(f"local:2 vs local:1: {speedup:.2f}x learners per second (target >= 1.7)")
    over = (walls["--cluster local:2"] - walls["pool --workers 2"]) / args.learners
    print(f"Dask local:2 vs pool: {over * 1000:+.0f} ms per learner "
          f"({100 * over * args.learners / walls['pool --workers 2']:+.1f} % of the pool's wall, target <= 10 %)")
    phase = (phases["--cluster local:2"] - phases["pool --workers 2"]) / args.learners
    print(f"  grading phase only (no start-up): {phase * 1000:+.0f} ms per learner")
    print(f"  phase speed-up local:2 vs local:1: {phases['--cluster local:1'] / max(phases['--cluster local:2'], 1e-9):.2f}x")
    print(f"  of which a fixed cost: starting LocalCluster(2) with checks and warm zygotes {start2:.1f} s")
    same = len(set(grades.values())) == 1 and all(grades.values())
    print(f"grades.csv byte-identical across the three: {same}")


if __name__ == "__main__":
    main()
