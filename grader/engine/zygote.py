"""The parent's handle on a warm zygote: import TensorFlow once, then fork a child per learner.

A spawned child costs a full ``import tensorflow`` (~2.7 s here); a child forked
from a zygote that has imported it, before running any TensorFlow op, is ready
in about 0.1 s (measured on TF 2.21: ops, GradientTape and a Keras fit all work
in the forked child). The zygote runs inside the same sandbox as a spawned child
would (bubblewrap, namespaces); each forked child then gets its own session,
mount and IPC namespace with capped scratch tmpfs, rlimits and unprivileged uid,
so learners never share one.

Parent side: :class:`Zygote` and :class:`ForkedChild`. Sandbox side:
:mod:`grader.engine.inside.zygote_main`.
"""

from __future__ import annotations

import array
import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.engine.launch import LaunchSpec, Policy, ZygoteLaunch, zygote_launch
from grader.engine.reap import ChildProcess

__all__ = ["Zygote", "ZygoteError", "ForkedChild", "warm_zygote", "close_zygotes"]

_MAX_MESSAGE = 65536


class ZygoteError(Exception):
    """The zygote is gone or did not answer; the caller falls back to spawning."""


# ---------------------------------------------------------------- parent side


class Zygote:
    """A running zygote; `spawn` forks a learner child from it."""

    def __init__(self, launch: ZygoteLaunch, startup_timeout_s: float = 90.0) -> None:
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._next = 0
        try:
            self.process = subprocess.Popen(
                [*launch.argv_prefix, sys.executable, "-s", "-m", "grader.engine.inside.zygote_main",
                 str(child_sock.fileno()), launch.workdir],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=launch.env, cwd=launch.cwd, pass_fds=(child_sock.fileno(),), start_new_session=True,
            )
        finally:
            child_sock.close()
        self._sock = parent_sock
        self._buffer = b""
        self._seq = 0
        self._stash: dict[Any, dict[str, Any]] = {}
        ready = self._answer(startup_timeout_s)
        if ready.get("ready") is not True or ready.get("scratch") is not True:
            self.close()
            raise ZygoteError(f"the zygote cannot give children scratch space of their own "
                              f"({ready.get('scratch_error', 'it did not start')})")

    def _answer(self, timeout: float, seq: int | None = None) -> dict[str, Any]:
        """The reply to request `seq`; replies to other requests (one that timed out, or one
        asked from a signal handler meanwhile) are kept for their askers, never mistaken."""
        deadline = time.monotonic() + timeout
        while True:
            if seq in self._stash:
                return self._stash.pop(seq)
            try:
                while b"\n" not in self._buffer:
                    self._sock.settimeout(max(deadline - time.monotonic(), 0.001))
                    chunk = self._sock.recv(_MAX_MESSAGE)
                    if not chunk:
                        raise ZygoteError("the zygote exited")
                    self._buffer += chunk
            except (TimeoutError, OSError) as exc:
                raise ZygoteError(f"the zygote did not answer ({exc})") from None
            line, _, self._buffer = self._buffer.partition(b"\n")
            message = json.loads(line)
            if message.get("seq") == seq:
                return message
            self._stash[message.get("seq")] = message
            if len(self._stash) > 64:  # nobody is waiting for the oldest any more
                self._stash.pop(next(iter(self._stash)))

    def _ask(self, message: dict[str, Any], fds: list[int] | None = None, timeout: float = 10.0) -> dict[str, Any]:
        self._seq += 1
        seq = self._seq
        try:
            socket.send_fds(self._sock, [json.dumps({**message, "seq": seq}).encode()], fds or [])
        except OSError as exc:
            raise ZygoteError(f"the zygote is gone ({exc})") from None
        return self._answer(timeout, seq)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, fds: tuple[int, int, int], spec: LaunchSpec, disk_bytes: int, inodes: int) -> int:
        """Fork a child that serves on the given pipes (in, out, output); returns its spawn id."""
        self._next += 1
        self._ask({"op": "spawn", "id": self._next, "uid": spec.uid, "rlimits": spec.rlimits,
                   "disk_bytes": disk_bytes, "inodes": inodes}, array.array("i", fds).tolist())
        return self._next

    def returncode(self, ident: int, timeout: float = 1.0) -> int | None:
        """The child's exit status (negative: killed by that signal), or None if still running."""
        try:
            answer = self._ask({"op": "wait", "id": ident, "timeout": timeout}, timeout=timeout + 5)
        except ZygoteError:
            return None
        code = answer.get("returncode")
        return code if isinstance(code, int) else None

    def kill(self, ident: int) -> None:
        """SIGKILL the forked process itself (before its uid drop, only the zygote can)."""
        try:
            self._ask({"op": "kill", "id": ident}, timeout=2.0)
        except ZygoteError:
            pass

    def clean(self, ident: int) -> None:
        """Reap the child (after every process of it is gone; the kernel frees its scratch)."""
        try:
            self._ask({"op": "clean", "id": ident})
        except ZygoteError:
            pass

    def close(self) -> None:
        self._sock.close()
        try:
            os.killpg(self.process.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()


# ---------------------------------------------------------------- one zygote per process and policy


class ForkedChild(ChildProcess):
    """A learner child forked by a zygote; its processes are found by its uid and cgroup."""

    def __init__(self, zygote: Zygote, fds: tuple[int, int, int], spec: LaunchSpec, policy: Policy) -> None:
        super().__init__(spec)
        self.zygote = zygote
        limits = policy.limits
        self.pid = self.ident = zygote.spawn(fds, spec, limits.disk_mb * 1024 * 1024, limits.inodes)
        self.returncode: int | None = None

    def wait(self, timeout: float) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.returncode(self.ident, timeout)
        return self.returncode

    def _own_members(self) -> set[int]:
        """The forked process itself while it lives (it may not have its own uid yet)."""
        if self.returncode is not None or not self.zygote.alive or self.wait(0.0) is not None:
            return set()
        return {self.pid}  # a pid in the zygote's namespace: only the zygote may signal it

    def _kill_leftovers(self, left: set[int]) -> None:
        if self.pid in left and self.zygote.alive:
            self.zygote.kill(self.ident)

    def _reap(self) -> None:
        self.wait(1.0)
        self.zygote.clean(self.ident)


_ZYGOTES: dict[Policy, Zygote] = {}
_ZYGOTE_HOMES: dict[Policy, Path] = {}


def warm_zygote(policy: Policy) -> Zygote | None:
    """This process's zygote for `policy` (started on first use), or None to spawn instead."""
    if not policy.warm or os.environ.get("GRADER_ZYGOTE", "1") == "0":
        return None
    zygote = _ZYGOTES.get(policy)
    if zygote is not None and zygote.alive:
        return zygote
    if zygote is not None:
        zygote.close()
    home = Path(tempfile.mkdtemp(prefix="grader-zygote-"))
    launch = zygote_launch(policy, home)
    if launch is None:
        shutil.rmtree(home, ignore_errors=True)
        return None
    try:
        zygote = Zygote(launch, policy.limits.startup_timeout_s)
    except (ZygoteError, OSError):
        shutil.rmtree(home, ignore_errors=True)
        return None
    _ZYGOTES[policy] = zygote
    _ZYGOTE_HOMES[policy] = home
    atexit.register(_close_zygote, policy, home)
    return zygote


def close_zygotes() -> None:
    """Stop every zygote of this process (they also stop at exit and with their parent)."""
    for policy in list(_ZYGOTES):
        zygote = _ZYGOTES.pop(policy)
        zygote.close()
    for policy in list(_ZYGOTE_HOMES):  # pool workers end without atexit: remove them here
        shutil.rmtree(_ZYGOTE_HOMES.pop(policy), ignore_errors=True)


def _close_zygote(policy: Policy, home: Path) -> None:
    zygote = _ZYGOTES.pop(policy, None)
    if zygote is not None:
        zygote.close()
    shutil.rmtree(home, ignore_errors=True)

