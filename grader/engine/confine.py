"""Command lines that confine a child: bubblewrap, unshare, the child's own entry point.

These are the building blocks of :mod:`grader.engine.launch`, which decides which of
them this machine supports. Nothing here starts a process, except the probe
helper :func:`try_command`. Killing lives in :mod:`grader.engine.reap`.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

__all__ = ["PACKAGE_DIR", "PROJECT_ROOT", "SANDBOX_LIB", "WORKDIR", "ZYGOTE_CAPS", "bwrap_argv",
           "unshare_argv", "child_argv", "probe_argv", "python_paths", "run_probe", "remove_ipc_of_uid"]

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_ROOT = PACKAGE_DIR.parent
SANDBOX_LIB = "/sandbox/lib"  # inside bwrap: holds a read-only `grader` package, nothing else
WORKDIR = "/home/learner"  # inside bwrap: the child's working directory (a tmpfs)
# The zygote forks children and gives each a uid, a mount namespace and tmpfs of its own;
# the children drop every capability before learner code runs.
ZYGOTE_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_SYS_ADMIN", "CAP_CHOWN", "CAP_KILL")
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf",
        "hosts", "alternatives", "os-release", "ssl")


def child_argv(in_fd: int, out_fd: int, uid: int | None, rlimits: object) -> list[str]:
    """The child itself: it confines itself (rlimits, uid), then serves requests on `in_fd`."""
    return [sys.executable, "-s", "-m", "grader.engine.inside.enter", str(in_fd), str(out_fd),
            "-" if uid is None else str(uid), json.dumps(rlimits)]


def probe_argv(uid: int | None, rlimits: object) -> list[str]:
    """The probe: confine a tiny Python as a child would be, print what failed."""
    return [sys.executable, "-s", "-m", "grader.engine.inside.limits", "--uid", "-" if uid is None else str(uid),
            "--rlimits", json.dumps(rlimits)]


def python_paths() -> list[str]:
    """The Python install (and venv) to show read-only: never the project, never an ancestor of it."""
    exe_prefix = os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))
    site_dirs = [p for p in sys.path if {"site-packages", "dist-packages"} & set(Path(p).parts)]
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, exe_prefix,
                  *site.getsitepackages(), *site_dirs}
    chosen: list[str] = []
    for path in sorted({os.path.realpath(p) for p in candidates if p}, key=len):
        if not os.path.isdir(path) or path in ("/", "/usr") or path.startswith("/usr/"):
            continue
        if any(path == c or path.startswith(c + "/") for c in chosen):
            continue
        if Path(path) == PROJECT_ROOT or Path(path) in PROJECT_ROOT.parents:
            continue  # would show solutions/ and the hidden checks
        chosen.append(path)
    return chosen


def bwrap_argv(bwrap: str, disk_bytes: int, env: dict[str, str], userns: bool, gpu: bool,
               caps: tuple[str, ...] | None = None) -> list[str]:
    """bubblewrap with fresh namespaces and a minimal, read-only view; ends with `--`.

    `userns`: also a user namespace (needed when not root, or where no uid drop works);
    the child is then uid 65534 inside it, without capabilities. `caps` (as root): keep
    only these capabilities (the zygote's); None keeps bwrap's default.

    Order matters: the private tmpfs (``/tmp``, ``/dev/shm``, the working directory)
    are mounted first, and the Python install is bound read-only on top of them, so
    that a Python or a venv under ``/tmp`` stays visible.
    """
    argv = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if userns:
        argv += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    elif caps is not None:
        argv += ["--cap-drop", "ALL"] + [arg for cap in caps for arg in ("--cap-add", cap)]
    made: set[str] = {"/"}
    read_only = ["/usr"]

    def parents(dest: str) -> None:
        # bwrap would create missing parents as 0700 root: unreadable once the uid is dropped.
        for ancestor in reversed(Path(dest).parents):
            name = str(ancestor)
            if name not in made and not any(name.startswith(r + "/") for r in read_only):
                argv.extend(["--perms", "0755", "--dir", name])
                made.add(name)

    argv += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/" + name)
        if top.is_symlink():
            argv += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            argv += ["--ro-bind", str(top), str(top)]
    parents("/etc/-")
    for name in _ETC:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    size = str(disk_bytes)
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", size, "--perms", "1777", "--tmpfs", "/dev/shm",
             "--size", size, "--perms", "1777", "--tmpfs", "/tmp"]
    made.update({"/proc", "/dev", "/dev/shm", "/tmp"})
    parents(WORKDIR)
    argv += ["--size", size, "--perms", "0777", "--tmpfs", WORKDIR]
    made.add(WORKDIR)
    for path in python_paths():  # after the tmpfs: a venv under /tmp is bound on top of it
        parents(path)
        argv += ["--ro-bind", path, path]
        read_only.append(path)
        installed = Path(path).glob("lib*/python*/*-packages/grader/checks")
        for copy in (Path(path) / "grader" / "checks", *installed):
            if copy.is_dir():  # a non-editable install of this project carries the hidden checks
                argv += ["--tmpfs", str(copy)]
    grader_dest = f"{SANDBOX_LIB}/grader"
    parents(grader_dest)
    # Only the package, and with an empty tmpfs over checks/: the hidden checks stay invisible.
    argv += ["--ro-bind", str(PACKAGE_DIR), grader_dest, "--tmpfs", f"{grader_dest}/checks"]
    argv += ["--chdir", WORKDIR]
    if gpu:
        for device in sorted(Path("/dev").glob("nvidia*")):
            argv += ["--dev-bind-try", str(device), str(device)]
        argv += ["--ro-bind-try", "/sys", "/sys"]
    for key, value in sorted(env.items()):
        argv += ["--setenv", key, value]
    return argv + ["--"]


def unshare_argv(unshare: str, userns: bool) -> list[str]:
    """util-linux unshare: new network, PID, IPC and UTS namespaces; the child dies with it.

    `userns`: also a user namespace (needed when not root; as root where no uid drop works,
    so that the child holds no capability over the host).
    """
    argv = [unshare, "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--ipc", "--uts"]
    return argv + (["--user", "--map-root-user"] if userns else [])


def remove_ipc_of_uid(uid: int) -> int:
    """Remove the System V shared memory, message queues and semaphores that `uid` owns.

    They outlive their creator: in a zygote's IPC namespace, or the host's without
    namespaces, one learner could leave gigabytes of shared memory, or messages, for
    the next one. Only root (or the owner) may remove them; returns how many went.
    """
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return 0
    ipc_rmid = 0
    removers = {"shm": lambda i: libc.shmctl(i, ipc_rmid, None),
                "msg": lambda i: libc.msgctl(i, ipc_rmid, None),
                "sem": lambda i: libc.semctl(i, 0, ipc_rmid)}
    removed = 0
    for kind, remove in removers.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                lines = table.read().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        columns = lines[0].split()
        if "uid" not in columns or len(columns) < 2:
            continue
        owner_at, id_at = columns.index("uid"), 1
        for line in lines[1:]:
            fields = line.split()
            if len(fields) > owner_at and fields[owner_at] == str(uid) and fields[id_at].isdigit():
                removed += remove(int(fields[id_at])) == 0
    return removed


def run_probe(argv: list[str], env: dict[str, str], preexec_fn=None) -> tuple[str, str]:  # noqa: ANN001
    """Run a probe: ('', its output) when it worked, else (the last line of what went wrong, '')."""
    try:
        done = subprocess.run(argv, env=env, cwd="/", capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)[:200], ""
    if done.returncode == 0:
        return "", done.stdout.decode("utf-8", "replace")
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return (lines[-1] if lines else f"exit status {done.returncode}")[:200], ""
