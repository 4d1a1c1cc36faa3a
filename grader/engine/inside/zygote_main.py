"""Inside the sandbox: the warm zygote, which forks one fresh child per learner.

Run as ``python -s -m grader.engine.inside.zygote_main CTRL_FD`` (the parent's side is
:mod:`grader.engine.zygote`). Control messages are small JSON objects on a Unix
socket; the three pipes of a child (requests, replies, captured output) travel as
file descriptors.

Each forked child gets a mount and IPC namespace of its own, with fresh size- and
inode-capped tmpfs on its working directory, ``/tmp`` and ``/dev/shm``
(:func:`grader.engine.inside.limits.private_scratch`), then its rlimits and its own
uid. The kernel releases all of it when the child's last process exits, so the
zygote never wipes anything: one learner's leftovers cannot slow down or reach the
next. The zygote refuses to start (``"scratch"`` false in its ready message) where
it cannot give children that scratch space.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from typing import Any

from grader.engine.inside import protocol
from grader.engine.inside.limits import confine, private_scratch

__all__ = ["main"]

_MAX_MESSAGE = 65536


def _become_child(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked process: private scratch, limits and uid, then serve the learner's calls."""
    in_fd, out_fd, output_fd = fds
    code = 70
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        uid, workdir = request.get("uid"), request["workdir"]
        try:
            private_scratch(workdir, uid, int(request["disk_bytes"]), int(request["inodes"]))
            report = confine(request.get("rlimits", []), uid)
            os.chdir(workdir)  # the fresh tmpfs (its owner's only), not the zygote's folder under it
        except OSError as exc:
            protocol.write_frame(out_fd, {"confined": {"error": str(exc)[:300]}})
            os._exit(71)
        os.environ.update(HOME=workdir, TMPDIR="/tmp", MPLCONFIGDIR=workdir)
        protocol.write_frame(out_fd, {"confined": {**report, "scratch": True}})
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        from grader.engine.inside.worker import serve

        code = serve(in_fd, out_fd)
    except BaseException:  # noqa: BLE001 - the learner may raise SystemExit from a thread, etc.
        code = 70
    os._exit(code)


def _scratch_works(workdir: str) -> str:
    """Whether a forked child can get its private scratch here: '' or what went wrong."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            private_scratch(workdir, None, 1 << 20, 64)
            message = b""
        except OSError as exc:
            message = str(exc).encode()[:300] or b"failed"
        os.write(write_fd, message)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as answer:
        message = answer.read()
    os.waitpid(pid, 0)
    return message.decode("utf-8", "replace")


def _die_with_parent() -> None:
    """Ask the kernel to kill the zygote when its parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _reply(sock: socket.socket, message: dict[str, Any], seq: Any = None) -> None:
    sock.sendall(json.dumps({**message, "seq": seq}).encode() + b"\n")


def _wait(pid: int | None, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while pid is not None:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)
    return None


def main(argv: list[str] | None = None) -> int:
    """Serve spawn/wait/kill/clean requests from the parent on the control socket."""
    argv = sys.argv[1:] if argv is None else argv
    sock = socket.socket(fileno=int(argv[0]))
    workdir = argv[1]
    _die_with_parent()
    from grader.engine.inside.worker import preload

    preload()
    problem = _scratch_works(workdir)
    _reply(sock, {"ready": True, "scratch": not problem, "scratch_error": problem})
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
            pid = os.fork()
            if pid == 0:
                sock.close()
                _become_child({**request, "workdir": workdir}, fds)
            for fd in fds:
                os.close(fd)
            children[ident] = pid
            _reply(sock, {"pid": pid}, request.get('seq'))
        elif op == "wait":
            if ident not in statuses:
                code = _wait(children.get(ident), float(request.get("timeout", 1.0)))
                if code is not None:
                    statuses[ident] = code
            _reply(sock, {"returncode": statuses.get(ident)}, request.get('seq'))
        elif op == "kill":
            if ident in children and ident not in statuses:
                try:
                    os.kill(children[ident], 9)
                except OSError:
                    pass
            _reply(sock, {"ok": True}, request.get('seq'))
        elif op == "clean":  # the parent has killed every process of the child: reap it
            finished = children.pop(ident, None)
            if finished is not None and ident not in statuses:
                try:
                    os.waitpid(finished, 0)
                except ChildProcessError:
                    pass
            statuses.pop(ident, None)
            _reply(sock, {"ok": True}, request.get('seq'))
        else:
            _reply(sock, {"error": f"unknown op {op!r}"}, request.get('seq'))


if __name__ == "__main__":
    sys.exit(main())
