"""A warm zygote: import TensorFlow once, then fork a fresh child for each learner.

A spawned child costs a full ``import tensorflow`` (~2.7 s here); a child forked
from a zygote that has imported it, before running any TensorFlow op, is ready
in about 0.1 s (measured on TF 2.21: ops, GradientTape and a Keras fit all work
in the forked child). The zygote runs inside the same sandbox as a spawned child
would (bubblewrap, namespaces); each forked child then gets its own session,
scratch directory, rlimits and unprivileged uid, so learners never share one.

Parent side: :class:`Zygote`. Sandbox side: ``python -m grader.engine.zygote CTRL_FD``.
Control messages are small JSON objects on a Unix socket; the three pipes of a
child (requests, replies, captured output) travel as file descriptors.
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

from grader.engine.confine import pids_of_uid
from grader.engine.launch import LaunchSpec, Policy, zygote_launch

__all__ = ["Zygote", "ZygoteError", "ForkedChild", "warm_zygote", "close_zygotes", "main"]

_MAX_MESSAGE = 65536


class ZygoteError(Exception):
    """The zygote is gone or did not answer; the caller falls back to spawning."""


# ---------------------------------------------------------------- sandbox side


def _become_child(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked process: isolate from the zygote, then serve the learner's calls."""
    in_fd, out_fd, output_fd = fds
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        scratch = os.path.join(request["workdir"], f"learner-{request['id']}")
        os.makedirs(scratch, mode=0o700)
        uid = request.get("uid")
        if uid is not None:
            os.chown(scratch, uid, uid)
        os.chdir(scratch)
        os.environ.update(HOME=scratch, TMPDIR=scratch, MPLCONFIGDIR=scratch)
        from grader.engine.launch import apply_rlimits

        apply_rlimits(request.get("rlimits", []))
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        from grader.engine.inside.worker import serve

        code = serve(in_fd, out_fd)
    except BaseException:  # noqa: BLE001 - the learner may raise SystemExit from a thread, etc.
        code = 70
    os._exit(code)


def _die_with_parent() -> None:
    """Ask the kernel to kill the zygote when its parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _reply(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


def main(argv: list[str] | None = None) -> int:
    """Serve spawn/wait/clean requests from the parent on the control socket."""
    argv = sys.argv[1:] if argv is None else argv
    sock = socket.socket(fileno=int(argv[0]))
    _die_with_parent()
    from grader.engine.inside.worker import preload

    preload()
    _reply(sock, {"ready": True})
    children: dict[int, int] = {}  # spawn id -> pid
    statuses: dict[int, int] = {}
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, _MAX_MESSAGE, 3)
        except OSError:
            return 0
        if not data:
            return 0
        request = json.loads(data)
        op, ident = request.get("op"), int(request.get("id", 0))
        if op == "spawn":
            if os.geteuid() == 0:  # only the zygote may create entries there (learners: own scratch)
                os.chmod(request["workdir"], 0o755)
            pid = os.fork()
            if pid == 0:
                sock.close()
                _become_child(request, fds)
            for fd in fds:
                os.close(fd)
            children[ident] = pid
            _reply(sock, {"pid": pid})
        elif op == "wait":
            deadline = time.monotonic() + float(request.get("timeout", 1.0))
            waiting = children.get(ident)
            while waiting is not None and ident not in statuses:
                done, status = os.waitpid(waiting, os.WNOHANG)
                if done:
                    statuses[ident] = os.waitstatus_to_exitcode(status)
                elif time.monotonic() > deadline:
                    break
                else:
                    time.sleep(0.01)
            _reply(sock, {"returncode": statuses.get(ident)})
        elif op == "clean":
            finished = children.pop(ident, None)
            if finished is not None and ident not in statuses:
                try:  # the parent has killed it: reap it so that no zombie stays
                    os.waitpid(finished, 0)
                except ChildProcessError:
                    pass
            statuses.pop(ident, None)
            shutil.rmtree(os.path.join(request["workdir"], f"learner-{ident}"), ignore_errors=True)
            if isinstance(request.get("uid"), int):  # System V IPC objects outlive the learner
                from grader.engine.confine import remove_ipc_of_uid

                remove_ipc_of_uid(request["uid"])
            for folder in request.get("wipe", []):  # private tmpfs folders: nothing passes on
                for entry in os.scandir(folder):
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        try:
                            os.unlink(entry.path)
                        except OSError:
                            pass
            _reply(sock, {"ok": True})
        else:
            _reply(sock, {"error": f"unknown op {op!r}"})


# ---------------------------------------------------------------- parent side


class Zygote:
    """A running zygote; `spawn` forks a learner child from it."""

    def __init__(self, argv_prefix: list[str], env: dict[str, str], cwd: str, workdir: str,
                 wipe: tuple[str, ...] = (), startup_timeout_s: float = 90.0) -> None:
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.workdir = workdir
        self.wipe = list(wipe)
        self._next = 0
        try:
            self.process = subprocess.Popen(
                [*argv_prefix, sys.executable, "-s", "-m", "grader.engine.zygote", str(child_sock.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=env, cwd=cwd, pass_fds=(child_sock.fileno(),), start_new_session=True,
            )
        finally:
            child_sock.close()
        self._sock = parent_sock
        self._buffer = b""
        if self._answer(startup_timeout_s).get("ready") is not True:
            self.close()
            raise ZygoteError("the zygote did not start")

    def _answer(self, timeout: float) -> dict[str, Any]:
        self._sock.settimeout(timeout)
        try:
            while b"\n" not in self._buffer:
                chunk = self._sock.recv(_MAX_MESSAGE)
                if not chunk:
                    raise ZygoteError("the zygote exited")
                self._buffer += chunk
        except (TimeoutError, OSError) as exc:
            raise ZygoteError(f"the zygote did not answer ({exc})") from None
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def _ask(self, message: dict[str, Any], fds: list[int] | None = None, timeout: float = 10.0) -> dict[str, Any]:
        try:
            socket.send_fds(self._sock, [json.dumps(message).encode()], fds or [])
        except OSError as exc:
            raise ZygoteError(f"the zygote is gone ({exc})") from None
        return self._answer(timeout)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, in_fd: int, out_fd: int, output_fd: int, uid: int | None,
              rlimits: tuple[tuple[str, int, int], ...]) -> int:
        """Fork a child that serves on the given pipes; returns its spawn id."""
        self._next += 1
        fds = array.array("i", [in_fd, out_fd, output_fd]).tolist()
        self._ask({"op": "spawn", "id": self._next, "uid": uid, "rlimits": rlimits,
                   "workdir": self.workdir}, fds)
        return self._next

    def returncode(self, ident: int, timeout: float = 1.0) -> int | None:
        """The child's exit status (negative: killed by that signal), or None if still running."""
        try:
            answer = self._ask({"op": "wait", "id": ident, "timeout": timeout}, timeout=timeout + 5)
        except ZygoteError:
            return None
        code = answer.get("returncode")
        return code if isinstance(code, int) else None

    def clean(self, ident: int, uid: int | None = None) -> None:
        """Remove the child's scratch directory and IPC objects (after it has been killed)."""
        try:
            self._ask({"op": "clean", "id": ident, "workdir": self.workdir, "wipe": self.wipe,
                       "uid": uid})
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


class ForkedChild:
    """A learner child forked by a zygote, seen through the parts of `Popen` that `Child` uses."""

    def __init__(self, zygote: Zygote, in_fd: int, out_fd: int, output_fd: int, spec: LaunchSpec) -> None:
        self.zygote, self.spec = zygote, spec
        self.ident = zygote.spawn(in_fd, out_fd, output_fd, spec.uid, spec.rlimits)
        self.returncode: int | None = None

    def join_cgroup(self) -> None:
        if self.spec.cgroup is not None and self.spec.uid is not None:
            for pid in pids_of_uid(self.spec.uid):
                self.spec.cgroup.add(pid)

    def wait(self, timeout: float | None = None) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.returncode(self.ident, timeout if timeout is not None else 10.0)
        return self.returncode

    def clean(self) -> None:
        self.zygote.clean(self.ident, self.spec.uid)


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
        zygote = Zygote(launch.argv_prefix, launch.env, launch.cwd, launch.workdir, launch.wipe,
                        policy.limits.startup_timeout_s)
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


if __name__ == "__main__":
    sys.exit(main())
