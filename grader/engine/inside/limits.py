"""Inside the sandbox: the limits a child puts on itself before any learner code runs.

One place for the rlimits, the uid drop and the private scratch mounts, used by a
spawned child (:mod:`grader.engine.inside.enter`), by a child forked from the zygote
(:mod:`grader.engine.inside.zygote_main`) and by the parent's probe. Every function
here reports what failed; the parent lists a defence that failed as missing.

Run as ``python -m grader.engine.inside.limits`` it is the probe: it applies the
limits given on the command line and prints a JSON report.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
from typing import Any

__all__ = ["apply_rlimits", "drop_privileges", "private_scratch", "confine", "main"]

_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CAP_VERSION_3 = 0x20080522
_CLONE_NEWNS, _CLONE_NEWIPC = 0x00020000, 0x08000000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 2, 4, 16384, 1 << 18


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def apply_rlimits(table: Any) -> list[str]:
    """Set the rlimits of the calling process; returns the names of those that could not be set."""
    failed = []
    for name, soft, hard in table:
        try:
            resource.setrlimit(getattr(resource, str(name)), (int(soft), int(hard)))
        except (AttributeError, ValueError, OSError):
            failed.append(str(name))
    return failed


def _status() -> dict[str, str]:
    with open("/proc/self/status") as status:
        return dict(line.split(":", 1) for line in status.read().splitlines() if ":" in line)


def drop_privileges(uid: int) -> None:
    """Become `uid` for good: no groups, no capabilities (bounding set too), no new privileges.

    Verified afterwards from /proc/self/status; raises PermissionError if anything is left.
    """
    libc = _libc()
    for cap in range(64):  # needs CAP_SETPCAP; EINVAL past the last capability
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise PermissionError("no_new_privs could not be set")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)
    libc.capset(header, (ctypes.c_uint32 * 6)())  # inheritable too (bwrap --cap-add sets it)
    status = _status()
    ids = status.get("Uid", "").split() + status.get("Gid", "").split()
    caps = [int(status.get(k, "1").strip(), 16) for k in ("CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd")]
    if ids != [str(uid)] * 8 or any(caps) or status.get("Groups", "").strip() \
            or status.get("NoNewPrivs", "").strip() != "1":
        raise PermissionError(f"the uid drop to {uid} left privileges: {ids} caps={caps}")


def _mount_tmpfs(libc: Any, path: str, options: str) -> None:
    if libc.mount(b"tmpfs", path.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, options.encode()) != 0:
        raise OSError(ctypes.get_errno(), f"mount tmpfs on {path}: {os.strerror(ctypes.get_errno())}")


def private_scratch(workdir: str, uid: int | None, size_bytes: int, inodes: int) -> None:
    """A mount and IPC namespace of our own, with fresh capped tmpfs on workdir, /tmp and /dev/shm.

    The kernel frees them when the last process of the child exits: nothing to wipe, and the
    size and inode caps bound both what the learner can fill and what the teardown costs.
    Needs CAP_SYS_ADMIN (the zygote has it; the learner, after the uid drop, never does).
    """
    libc = _libc()
    if libc.unshare(_CLONE_NEWNS | _CLONE_NEWIPC) != 0:
        raise OSError(ctypes.get_errno(), f"unshare: {os.strerror(ctypes.get_errno())}")
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), f"make / private: {os.strerror(ctypes.get_errno())}")
    owner = "" if uid is None else f",uid={uid},gid={uid}"
    caps = f"size={size_bytes},nr_inodes={inodes}"
    # The grader package is imported lazily by the child: a fresh /tmp must not hide it (a
    # clone under /tmp without bubblewrap, e.g. `grader watch`; bubblewrap shows it elsewhere).
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for shared in ("/tmp", "/dev/shm"):
        if os.path.isdir(shared) and not package.startswith(shared + "/"):
            _mount_tmpfs(libc, shared, f"{caps},mode=1777")
    # After /tmp: a working directory under /tmp (a zygote without bubblewrap) would be hidden.
    os.makedirs(workdir, mode=0o755, exist_ok=True)
    _mount_tmpfs(libc, workdir, f"{caps},mode=0700{owner}")


def confine(rlimits: Any, uid: int | None) -> dict[str, Any]:
    """Apply the rlimits, then drop to `uid` (if given); the report the parent reads."""
    failed = apply_rlimits(rlimits)
    if uid is not None:
        drop_privileges(uid)
    return {"rlimits_failed": failed, "uid": os.getuid()}


def main(argv: list[str] | None = None) -> int:
    """The probe: ``--uid U --rlimits JSON``; prints the report, exits 1 if the drop failed."""
    argv = sys.argv[1:] if argv is None else argv
    options = dict(zip(argv[::2], argv[1::2]))
    uid = int(options["--uid"]) if options.get("--uid", "-") != "-" else None
    try:
        report = confine(json.loads(options.get("--rlimits", "[]")), uid)
    except OSError as exc:
        print(f"uid drop failed: {exc}", file=sys.stderr)
        return 1
    import grader.engine.inside.protocol  # noqa: F401 - the child's imports work in this view

    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
