"""Small timing helpers shared by the benchmark scripts (not part of the grader)."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

TF_IMPORT = [sys.executable, "-c", "import tensorflow"]


def wall(command: Sequence[str], env: dict[str, str] | None = None, cwd: str | None = None) -> float:
    """Seconds one command takes, start to exit (its output is discarded)."""
    started = time.perf_counter()
    subprocess.run(list(command), env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def interleaved_medians(commands: dict[str, Sequence[str]], repeats: int, env=None, cwd=None) -> dict[str, float]:
    """Median wall time of each command, run in turn so machine noise hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            samples[name].append(wall(command, env=env, cwd=cwd))
    return {name: statistics.median(values) for name, values in samples.items()}


def hardware() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def verdict(ratio: float, target: float) -> str:
    return "meets target" if ratio <= target else "MISSES target"
