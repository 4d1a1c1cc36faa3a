"""Per-child control groups: a memory cap that counts everything, a task cap, and a kill switch.

A cgroup is the only memory limit that also counts shared memory and tmpfs pages
(``RLIMIT_DATA`` misses ``MAP_SHARED`` mappings; ``RLIMIT_AS`` trips over the
address space TensorFlow and CUDA reserve but never touch). It needs a writable
cgroup hierarchy, which usually means running as root. Both the unified
hierarchy (v2: ``memory.max``, ``pids.max``, ``cgroup.kill``) and the legacy one
(v1: ``memory.limit_in_bytes`` and a separate ``pids`` hierarchy) are supported.
Everything here fails soft: where no cgroup can be made, :func:`create` returns
``None`` and the caller reports the defence as missing.
"""

from __future__ import annotations

import atexit
import functools
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ChildCgroup", "create", "available"]

_PREFIX = "grader-"
_STALE_S = 600  # an empty cgroup of ours this old was left by a grader that was killed
_PENDING: list[Path] = []  # directories that were still busy when their child was removed


@dataclass(frozen=True)
class _Hierarchy:
    version: int  # 1 or 2
    controller: str  # "memory" or "pids"
    parent: Path  # where our per-child directories go


def _mounts() -> list[tuple[str, str, str, str]]:
    """(mount root, mount point, fs type, super options) for every cgroup mount."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((fields[3], fields[4], tail[0], tail[2]))
    return found


def _own_paths() -> dict[str, str]:
    """Controller name (or "" for v2) -> this process's cgroup path."""
    paths: dict[str, str] = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    except (OSError, ValueError):
        pass
    return paths


def _candidates(root: str, point: str, own: str | None) -> list[Path]:
    """Our own cgroup first (limits nest under the grader's), then the mount's top."""
    out = []
    if own is not None and own.startswith(root):
        out.append(Path(point) / own[len(root):].lstrip("/"))
    out.append(Path(point))
    return out


def _writable(parent: Path, files: tuple[str, ...]) -> bool:
    probe = parent / f"{_PREFIX}probe-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        return all((probe / name).exists() for name in files)
    finally:
        try:
            probe.rmdir()
        except OSError:
            pass


def _sweep(parent: Path) -> None:
    """Remove empty per-child cgroups that a killed grader left behind (never a live one)."""
    now = time.time()
    for path in parent.glob(f"{_PREFIX}*"):
        try:
            if now - path.stat().st_mtime > _STALE_S:
                path.rmdir()  # fails (EBUSY) if any process is still inside
        except OSError:
            pass


def _retry_pending() -> None:
    deadline = time.monotonic() + 2.0
    while _PENDING and time.monotonic() < deadline:
        for path in list(_PENDING):
            try:
                path.rmdir()
                _PENDING.remove(path)
            except FileNotFoundError:
                _PENDING.remove(path)
            except OSError:
                pass
        time.sleep(0.05)


atexit.register(_retry_pending)


@functools.lru_cache(maxsize=1)
def _hierarchies() -> tuple[_Hierarchy, ...]:
    own = _own_paths()
    chosen: dict[str, _Hierarchy] = {}
    for root, point, fstype, options in _mounts():
        if fstype == "cgroup2":
            for parent in _candidates(root, point, own.get("")):
                try:
                    enabled = (parent / "cgroup.subtree_control").read_text().split()
                except OSError:
                    continue
                for name, probe_file in (("memory", "memory.max"), ("pids", "pids.max")):
                    if name in enabled and name not in chosen and _writable(parent, (probe_file,)):
                        chosen[name] = _Hierarchy(2, name, parent)
        else:
            for name, probe_file in (("memory", "memory.limit_in_bytes"), ("pids", "pids.max")):
                if name in options.split(",") and name not in chosen:
                    for parent in _candidates(root, point, own.get(name)):
                        if _writable(parent, (probe_file,)):
                            chosen[name] = _Hierarchy(1, name, parent)
                            break
    for hierarchy in chosen.values():
        _sweep(hierarchy.parent)
    return tuple(chosen.values())


def available() -> tuple[str, ...]:
    """The controllers we can use on this machine ("memory", "pids"); probed once."""
    return tuple(h.controller for h in _hierarchies())


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


class ChildCgroup:
    """The cgroup directories of one child; `join` runs in the child before exec."""

    def __init__(self, dirs: dict[str, tuple[int, Path]]) -> None:
        self.dirs = dirs

    @property
    def controllers(self) -> tuple[str, ...]:
        return tuple(self.dirs)

    def join(self) -> None:
        """Move the calling process in (called from `preexec_fn`, before any limit drops)."""
        self.add(os.getpid())

    def add(self, pid: int) -> bool:
        """Move a process in (the parent does this for a child forked by a zygote); all went?"""
        return all([_write(path / "cgroup.procs", str(pid)) for _, path in self.dirs.values()])

    def missing_members(self, pids: list[int]) -> list[str]:
        """Controllers that do not hold every one of `pids`: those defences failed for this child."""
        failed = []
        for controller, (_, path) in self.dirs.items():
            try:
                inside = set((path / "cgroup.procs").read_text().split())
            except OSError:
                inside = set()
            if not pids or any(str(pid) not in inside for pid in pids):
                failed.append(controller)
        return failed

    def oom_killed(self) -> bool:
        """Whether the kernel killed something here for exceeding the memory cap."""
        if "memory" not in self.dirs:
            return False
        version, path = self.dirs["memory"]
        name = "memory.events" if version == 2 else "memory.oom_control"
        try:
            for line in (path / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    return int(value) > 0
            # Old v1 kernels have no oom_kill counter: fall back to "the cap was hit".
            return version == 1 and int((path / "memory.failcnt").read_text().strip() or 0) > 0
        except (OSError, ValueError):
            return False

    def pids(self) -> set[int]:
        found: set[int] = set()
        for _, path in self.dirs.values():
            try:
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def kill_now(self) -> None:
        """SIGKILL every process inside, once (`cgroup.kill` where the kernel has it)."""
        for version, path in self.dirs.values():
            if version == 2:
                _write(path / "cgroup.kill", "1")
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def remove(self) -> None:
        """Delete the directories, once the child's processes are gone (retrying while they exit)."""
        for _, path in self.dirs.values():
            for attempt in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if attempt == 49:
                        _PENDING.append(path)  # retried at exit, or swept by a later grader
                    time.sleep(0.02)


def create(name: str, memory_bytes: int | None, max_tasks: int | None) -> ChildCgroup | None:
    """Make the cgroup(s) for one child with the given caps; None where none can be made."""
    dirs: dict[str, tuple[int, Path]] = {}
    for hierarchy in _hierarchies():
        if hierarchy.controller == "memory" and memory_bytes is None:
            continue
        if hierarchy.controller == "pids" and max_tasks is None:
            continue
        path = hierarchy.parent / f"{_PREFIX}{name}"
        try:
            path.mkdir()
        except FileExistsError:
            pass
        except OSError:
            continue
        ok = True
        if hierarchy.controller == "memory":
            if hierarchy.version == 2:
                ok = _write(path / "memory.max", str(memory_bytes))
                _write(path / "memory.swap.max", "0")
            else:
                ok = _write(path / "memory.limit_in_bytes", str(memory_bytes))
                _write(path / "memory.memsw.limit_in_bytes", str(memory_bytes))
        else:
            ok = _write(path / "pids.max", str(max_tasks))
        if ok:
            dirs[hierarchy.controller] = (hierarchy.version, path)
        else:
            try:
                path.rmdir()
            except OSError:
                pass
    return ChildCgroup(dirs) if dirs else None
