"""Stopping a learner's child for good: kill everything it started, and confirm it.

A child is more than one process: whatever it forks, daemonises or leaves in a
new session belongs to it too. Its members are found by what the learner cannot
shed: its own uid, its cgroup, its PID namespace (and, for `grader check`, its
process group). :meth:`ChildProcess.close` kills them and returns only when none
is left, verified from ``/proc``; otherwise it raises :class:`ChildLingers`.

Killing by uid is atomic: a helper that has become the learner's uid calls
``kill(-1, SIGKILL)``, which the kernel delivers to every process of that uid
under the task-list lock, so a fork bomb cannot fork past it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable

from grader.engine.inside.limits import drop_privileges
from grader.engine.launch import LaunchSpec

__all__ = ["ChildProcess", "SpawnedProcess", "ChildLingers", "pids_of_uid", "kill_uid", "live_pids",
           "CONFIRM_S"]

CONFIRM_S = 30.0  # SIGKILLed processes end in milliseconds; this is for a machine under heavy load


class ChildLingers(RuntimeError):
    """Processes of a child survived SIGKILL (a grader-side failure, never the learner's)."""


def _status(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/status") as status:
            return status.read()
    except OSError:
        return ""


def _alive(text: str) -> bool:
    return bool(text) and "\nState:\tZ" not in text and "\nState:\tX" not in text


def live_pids(pids: Iterable[int]) -> set[int]:
    """The given processes that still exist and are not zombies (dead, waiting to be reaped)."""
    return {pid for pid in pids if _alive(_status(str(pid)))}


def pids_of_uid(uid: int) -> list[int]:
    """Every live process whose real uid is `uid` (zombies are dead already: left to be reaped)."""
    needle, found = f"\nUid:\t{uid}\t", []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            text = _status(entry.name)
            if needle in text and _alive(text):
                found.append(int(entry.name))
    return found


def _pids_where(link: str, value: str) -> set[int]:
    found = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.readlink(f"/proc/{entry.name}/{link}") == value:
                    found.add(int(entry.name))
            except OSError:
                continue
    return live_pids(found)


def _process_group(pgid: int) -> set[int]:
    found = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if len(fields) > 2 and fields[2] == str(pgid):
                found.add(int(entry.name))
    return live_pids(found)


def kill_uid(uid: int) -> None:
    """SIGKILL every process of `uid` at once: a helper becomes `uid` and calls kill(-1)."""
    setpriv, kill = shutil.which("setpriv"), shutil.which("kill")
    if setpriv and kill:
        subprocess.run([setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", kill, "-KILL", "-1"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        return
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the helper
        try:
            drop_privileges(uid)  # the one uid drop (inside/limits.py)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


class ChildProcess:
    """One learner's child as the parent sees it, however it was started."""

    pid: int
    returncode: int | None = None

    def __init__(self, spec: LaunchSpec) -> None:
        self.spec = spec

    # ---------------------------------------------------------------- what a kind of child provides

    def wait(self, timeout: float) -> int | None:
        """The exit status of the child's main process, or None if it is still running."""
        raise NotImplementedError

    def _own_members(self) -> set[int]:
        return set()

    def _signal_own(self) -> None:
        """SIGKILL what only this kind of child can reach (its process group, its namespace)."""

    def _kill_leftovers(self, left: set[int]) -> None:
        """Within `close()`: what `kill()` cannot reach at once (e.g. through the zygote)."""

    def _reap(self) -> None:
        """Collect the main process's exit status, once every member is gone."""

    # ---------------------------------------------------------------- shared

    def started(self) -> list[str]:
        """Called once the child runs, before learner code: the defences that failed for it."""
        cgroup = self.spec.cgroup
        if cgroup is None or self.spec.uid is None:
            return []
        for pid in pids_of_uid(self.spec.uid):
            cgroup.add(pid)
        return cgroup.missing_members(pids_of_uid(self.spec.uid))

    def members(self) -> set[int]:
        """Every live process that belongs to this child."""
        found = self._own_members()
        if self.spec.uid is not None:
            found.update(pids_of_uid(self.spec.uid))
        if self.spec.cgroup is not None:
            found.update(live_pids(self.spec.cgroup.pids()))
        return found

    def kill(self) -> None:
        """SIGKILL every member now, without waiting (safe from a signal handler or a watchdog)."""
        self._signal_own()
        if self.spec.uid is not None:
            kill_uid(self.spec.uid)
        if self.spec.cgroup is not None:
            self.spec.cgroup.kill_now()

    def close(self, within_s: float = CONFIRM_S) -> None:
        """Kill every member and return only when none is left; then release what it held."""
        deadline = time.monotonic() + within_s
        pause = 0.005
        while True:
            self.kill()
            left = self.members()
            if not left:
                break
            self._kill_leftovers(left)
            if time.monotonic() > deadline:
                raise ChildLingers(f"{len(left)} processes of a learner's child survived SIGKILL: "
                                   f"{sorted(left)[:10]}")
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        self._reap()
        self.spec.release()


class SpawnedProcess(ChildProcess):
    """A child started by `subprocess.Popen` (in its own session, maybe in bwrap or unshare)."""

    def __init__(self, spec: LaunchSpec, popen: subprocess.Popen[bytes]) -> None:
        super().__init__(spec)
        self.popen = popen
        self.pid = popen.pid
        self._namespace: str | None = None

    @property  # type: ignore[override]  # Popen's status, read-only here
    def returncode(self) -> int | None:  # type: ignore[override]
        return self.popen.returncode

    def wait(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def started(self) -> list[str]:
        """Remember the PID namespace (bwrap, unshare) whose processes are all the child's."""
        if self.spec.wrapped:
            try:
                with open(f"/proc/{self.pid}/task/{self.pid}/children") as children:
                    first = children.read().split()
                if first:
                    namespace = os.readlink(f"/proc/{first[0]}/ns/pid")
                    if namespace != os.readlink("/proc/self/ns/pid"):
                        self._namespace = namespace
            except OSError:
                pass
        cgroup = self.spec.cgroup
        if cgroup is None or self.popen.poll() is not None:
            return []
        return cgroup.missing_members([self.pid])

    def _own_members(self) -> set[int]:
        found = live_pids([self.pid]) | _process_group(self.pid)
        if self._namespace is not None:
            found |= _pids_where("ns/pid", self._namespace)
        return found

    def _signal_own(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in self._own_members():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def _reap(self) -> None:
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
