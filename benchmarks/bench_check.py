"""Targets 1 and 2: `grader check` wall time as a multiple of `import tensorflow`.

Usage: python benchmarks/bench_check.py [--repeats 5]
Both sides are measured in the same run, interleaved; medians are reported.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from _timing import TF_IMPORT, hardware, interleaved_medians, verdict

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    grader = shutil.which("grader") or sys.exit("install the project first (pip install -e .)")
    seven = ["ex01", "ex02", "ex03", "ex04", "ex05", "ex06", "ex07"]
    medians = interleaved_medians(
        {
            "import tensorflow": TF_IMPORT,
            "grader check ex03": [grader, "check", "ex03", "--dir", "solutions"],
            "grader check ex01..ex07": [grader, "check", *seven, "--dir", "solutions"],
        },
        args.repeats,
        cwd=str(ROOT),
    )
    base = medians["import tensorflow"]
    print(f"hardware: {hardware()}; medians of {args.repeats} interleaved runs")
    for name, seconds in medians.items():
        print(f"  {name:<26} {seconds:6.2f} s   ratio {seconds / base:4.2f}")
    r1 = medians["grader check ex03"] / base
    r2 = medians["grader check ex01..ex07"] / base
    print(f"target 1: check ex03 / import tf = {r1:.2f} (target <= 1.5: {verdict(r1, 1.5)})")
    print(f"target 2: check ex01..07 / import tf = {r2:.2f} (target <= 2.0: {verdict(r2, 2.0)})")


if __name__ == "__main__":
    main()
