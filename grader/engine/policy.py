"""What a child may use and which defences to ask for: the budgets and the policy, plain values."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Limits", "Policy"]


@dataclass(frozen=True)
class Limits:
    """Budgets for one learner's child process."""

    call_timeout_s: float = 10.0
    startup_timeout_s: float = 90.0
    memory_mb: int = 6144
    cpu_s: int = 900
    processes: int = 512  # processes and threads together
    file_size_mb: int = 64
    output_kb: int = 64
    disk_mb: int = 256  # each private tmpfs: working directory, /tmp, /dev/shm
    inodes: int = 16384  # files and folders in each private tmpfs of a forked child


@dataclass(frozen=True)
class Policy:
    """Which defences to use: `isolate` is for grading other people's code."""

    isolate: bool = False
    limits: Limits = field(default_factory=Limits)
    warm: bool = False  # fork children from a zygote that has imported TensorFlow (batches)
