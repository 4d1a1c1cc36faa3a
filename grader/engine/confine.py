"""Command lines that confine a child: bubblewrap, unshare, a uid drop; and killing by uid.

These are the building blocks of :mod:`grader.engine.launch`, which decides which of
them this machine supports. Nothing here starts a process, except the probe
helper :func:`try_command`.
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["PACKAGE_DIR", "PROJECT_ROOT", "SANDBOX_LIB", "WORKDIR", "bwrap_argv", "unshare_argv",
           "drop_argv", "worker_argv", "python_paths", "kill_uid", "pids_of_uid", "try_command",
           "remove_ipc_of_uid"]

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_ROOT = PACKAGE_DIR.parent
SANDBOX_LIB = "/sandbox/lib"  # inside bwrap: holds a read-only `grader` package, nothing else
WORKDIR = "/home/learner"  # inside bwrap: the child's working directory (a tmpfs)
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf",
        "hosts", "alternatives", "os-release", "ssl")


def worker_argv(in_fd: int, out_fd: int) -> list[str]:
    """The child itself: the worker, reading requests on `in_fd` and answering on `out_fd`."""
    return [sys.executable, "-s", "-m", "grader.engine.inside.worker", str(in_fd), str(out_fd)]


def drop_argv(uid: int) -> list[str]:
    """A prefix that switches to `uid` (real, effective and saved; no groups, no caps), then execs."""
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs"]
    shim = ("import os,sys;u=int(sys.argv[1]);os.setgroups([]);os.setresgid(u,u,u);"
            "os.setresuid(u,u,u);os.execv(sys.argv[2],sys.argv[2:])")
    return [sys.executable, "-S", "-c", shim, str(uid)]


def python_paths() -> list[str]:
    """The Python install (and venv) to show read-only: never the project, never an ancestor of it."""
    exe_prefix = os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, exe_prefix,
                  *site.getsitepackages()}
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


def bwrap_argv(bwrap: str, disk_bytes: int, env: dict[str, str], userns: bool, gpu: bool) -> list[str]:
    """bubblewrap with fresh namespaces and a minimal, read-only view; ends with `--`.

    `userns`: also a user namespace (needed when not root, or where no uid drop works);
    the child is then uid 65534 inside it, without capabilities.
    """
    argv = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if userns:
        argv += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
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
    for path in python_paths():
        parents(path)
        argv += ["--ro-bind", path, path]
        read_only.append(path)
    grader_dest = f"{SANDBOX_LIB}/grader"
    parents(grader_dest)
    # Only the package, and with an empty tmpfs over checks/: the hidden checks stay invisible.
    argv += ["--ro-bind", str(PACKAGE_DIR), grader_dest, "--tmpfs", f"{grader_dest}/checks"]
    size = str(disk_bytes)
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", size, "--perms", "1777", "--tmpfs", "/dev/shm",
             "--size", size, "--perms", "1777", "--tmpfs", "/tmp"]
    parents(WORKDIR)
    argv += ["--size", size, "--perms", "0777", "--tmpfs", WORKDIR, "--chdir", WORKDIR]
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


def pids_of_uid(uid: int) -> list[int]:
    """Every live process whose real uid is `uid` (zombies are dead already: left to be reaped)."""
    needle, found = f"\nUid:\t{uid}\t", []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/status") as status:
                    text = status.read()
            except OSError:
                continue
            if needle in text and "\nState:\tZ" not in text:
                found.append(int(entry.name))
    return found


def kill_uid(uid: int, within_s: float = 2.0) -> None:
    """SIGKILL every process whose real uid is `uid` (a child's own uid), until none is left."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        pids = pids_of_uid(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
        time.sleep(0.01)


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


def try_command(argv: list[str], env: dict[str, str], preexec_fn=None) -> str:  # noqa: ANN001
    """Run a probe; '' when it worked, else the last line of what went wrong."""
    try:
        done = subprocess.run(argv, env=env, cwd="/", capture_output=True, timeout=30,
                              stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)[:200]
    if done.returncode == 0:
        return ""
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return (lines[-1] if lines else f"exit status {done.returncode}")[:200]
