"""Target 3: batch grading throughput, as wall x workers / (learners x `import tensorflow`).

Usage: python benchmarks/bench_batch.py [--learners 40] [--workers 2]
Builds a class of learners (solutions, stubs and half-done mixes) for the seven
non-MNIST exercises, grades it with `grader grade`, and times one TF import in
the same run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _timing import TF_IMPORT, hardware, verdict, wall

ROOT = Path(__file__).resolve().parent.parent
SEVEN = ["ex01", "ex02", "ex03", "ex04", "ex05", "ex06", "ex07"]


def build_class(folder: Path, learners: int) -> None:
    solutions = sorted((ROOT / "solutions").glob("ex0[1-7]_*.py"))
    stubs = {p.name: p for p in (ROOT / "exercises").glob("ex0[1-7]_*.py")}
    for number in range(learners):
        learner = folder / f"learner{number:03d}"
        learner.mkdir(parents=True)
        for index, solution in enumerate(solutions):
            # every third learner left some exercises as stubs
            source = stubs[solution.name] if number % 3 == 0 and index % 2 else solution
            shutil.copy(source, learner / solution.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    grader = shutil.which("grader") or sys.exit("install the project first (pip install -e .)")
    with tempfile.TemporaryDirectory() as tmp:
        submissions, out = Path(tmp) / "submissions", Path(tmp) / "out"
        build_class(submissions, args.learners)
        imports = [wall(TF_IMPORT) for _ in range(3)]
        command = [grader, "grade", str(submissions), "-o", str(out), "--workers", str(args.workers),
                   "--seed", "1", "--exercises", ",".join(SEVEN)]
        batch = wall(command)
        again = wall(command)  # unchanged submissions: should cost almost nothing
        imports += [wall(TF_IMPORT) for _ in range(2)]
        rows = (out / "grades.csv").read_text().count("\n") - 1 if (out / "grades.csv").exists() else 0
    tf_import = statistics.median(imports)
    ratio = batch * args.workers / (args.learners * tf_import)
    print(f"hardware: {hardware()}")
    print(f"import tensorflow (median of 5): {tf_import:.2f} s")
    print(f"grader grade: {args.learners} learners x 7 exercises, {args.workers} workers: {batch:.1f} s "
          f"({batch / args.learners:.2f} s per learner), grades.csv rows: {rows}")
    print(f"re-run on unchanged submissions: {again:.1f} s")
    print(f"target 3: wall x workers / (learners x import) = {ratio:.2f} (target <= 0.5: {verdict(ratio, 0.5)})")


if __name__ == "__main__":
    main()
