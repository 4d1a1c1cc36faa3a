"""How the learner's child is started: limits, a scrubbed environment, a scratch directory.

`Policy.isolate` (batch grading) adds namespaces and bubblewrap where the machine
has them; `grader check` keeps the timeouts and limits but may run with fewer
defences. Every defence that is missing is reported, never silently skipped.
"""

from __future__ import annotations

import os
import resource
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

__all__ = ["Limits", "Policy", "LaunchSpec", "launch_spec"]

# Variables the child may keep; everything else (secrets, MNIST_DIR, seeds) is dropped.
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES")


@dataclass(frozen=True)
class Limits:
    """Budgets for one learner's child process."""

    call_timeout_s: float = 10.0
    startup_timeout_s: float = 90.0
    memory_mb: int = 6144
    cpu_s: int = 900
    processes: int = 512
    file_size_mb: int = 64
    output_kb: int = 64


@dataclass(frozen=True)
class Policy:
    """Which defences to use: `isolate` is for grading other people's code."""

    isolate: bool = False
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class LaunchSpec:
    """Everything `subprocess.Popen` needs to start one child."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    preexec_fn: Callable[[], None]
    defences: tuple[str, ...]
    missing: tuple[str, ...]


def _child_env(scratch: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.update(
        HOME=str(scratch),
        TMPDIR=str(scratch),
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONNOUSERSITE="1",
        TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        MPLBACKEND="Agg",
    )
    # The child must import the grader package itself, but nothing else of ours.
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return env


def _rlimits(limits: Limits) -> Callable[[], None]:
    def apply() -> None:
        def cap(which: int, value: int) -> None:
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):
                pass

        cap(resource.RLIMIT_CPU, limits.cpu_s)
        cap(resource.RLIMIT_DATA, limits.memory_mb * 1024 * 1024)
        cap(resource.RLIMIT_FSIZE, limits.file_size_mb * 1024 * 1024)
        cap(resource.RLIMIT_NPROC, limits.processes)
        cap(resource.RLIMIT_CORE, 0)

    return apply


def launch_spec(policy: Policy, scratch: Path, in_fd: int, out_fd: int) -> LaunchSpec:
    """Build the command line and process settings for one child."""
    argv = [sys.executable, "-s", "-m", "grader.worker", str(in_fd), str(out_fd)]
    defences = ["timeouts", "rlimits", "scrubbed environment", "empty working directory"]
    missing: list[str] = []
    if policy.isolate:
        missing += ["network namespace", "filesystem view (bubblewrap)", "unprivileged uid"]
    return LaunchSpec(
        argv=argv,
        env=_child_env(scratch),
        cwd=str(scratch),
        preexec_fn=_rlimits(policy.limits),
        defences=tuple(defences),
        missing=tuple(missing),
    )
