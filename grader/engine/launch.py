"""How the learner's child is started: limits, namespaces, a filesystem view, an unprivileged uid.

`Policy.isolate` (batch grading) asks for every defence this machine has, strongest
first:

1. **bubblewrap** (``bwrap``): new network, PID, IPC and UTS namespaces and a
   minimal read-only filesystem view (``/usr``, the Python install, the
   ``grader`` package without its ``checks``), size-capped tmpfs for the working
   directory, ``/tmp`` and ``/dev/shm``;
2. else **unshare** (util-linux): network and PID namespaces only;
3. else nothing but the limits below.

As root, the learner's code then runs under a uid of its own (one per child), so
``RLIMIT_NPROC`` applies, it cannot signal or read anything of the grader's, and
whatever it leaves behind can be found and killed by uid. Memory is capped by a
cgroup where one is writable, and always by ``RLIMIT_DATA`` (docs/security.md has
the measurements behind that choice). `grader check` (``isolate=False``) keeps the
timeouts and the rlimits. Missing defences are reported by :func:`describe_defences`,
never skipped silently. ``GRADER_SANDBOX_DISABLE=bwrap,unshare,cgroup,uid`` turns
pieces off, to test the fallbacks.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.engine import cgroups
from grader.engine.confine import (
    PROJECT_ROOT,
    SANDBOX_LIB,
    WORKDIR,
    ZYGOTE_CAPS,
    bwrap_argv,
    child_argv,
    probe_argv,
    remove_ipc_of_uid,
    run_probe,
    unshare_argv,
)
from grader.engine.policy import Limits, Policy

__all__ = ["Limits", "Policy", "LaunchSpec", "launch_spec", "describe_defences", "Machine", "probe_machine",
           "ZygoteLaunch", "zygote_launch", "missing_protections", "demote"]

UID_BASE = 1_900_000_000  # children get uids from here on: no passwd entry, nothing owned
_KEEP_ENV = ("LANG", "LC_ALL", "KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES",
             "XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_FLAGS")
_MiB = 1024 * 1024
_uids = itertools.count()
NOT_FOR_CHECK = " (not used by `grader check`)"


@dataclass(frozen=True)
class LaunchSpec:
    """Everything `subprocess.Popen` needs to start one child, and how to clean up after it."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    preexec_fn: Callable[[], None] | None
    defences: tuple[str, ...]
    missing: tuple[str, ...]
    uid: int | None = None  # the child's own uid, where we dropped to one
    cgroup: cgroups.ChildCgroup | None = None
    wrapped: bool = False  # argv[0] is bwrap/unshare: exit status 128+N means "killed by signal N"
    memory_mb: int = 0
    rlimits: tuple[tuple[str, int, int], ...] = ()

    def exit_signal(self, returncode: int | None) -> int | None:
        """The signal that ended the learner's process, seen through a wrapper's exit status."""
        if returncode is None:
            return None
        if returncode < 0:
            return -returncode
        if self.wrapped and 128 < returncode < 128 + 65:
            return returncode - 128
        return None

    def out_of_memory(self) -> bool:
        """Whether the memory cgroup killed something of this child's."""
        return self.cgroup is not None and self.cgroup.oom_killed()

    def release(self) -> None:
        """After every process of the child is gone: its IPC objects and its cgroup."""
        if self.uid is not None:
            remove_ipc_of_uid(self.uid)  # without an IPC namespace, they would outlive the child
        if self.cgroup is not None:
            self.cgroup.remove()


@dataclass(frozen=True)
class Machine:
    """What this machine offers, probed once per grader process."""

    root: bool
    gpu: bool
    cgroups: tuple[str, ...]
    bwrap: str | None  # usable bubblewrap
    bwrap_userns: bool  # it needs a user namespace (no uid drop of our own)
    bwrap_error: str
    unshare: str | None
    unshare_error: str
    uid_in_unshare: bool  # the uid drop works after unshare
    uid_in_plain: bool  # the uid drop works without namespaces
    uid_error: str
    rlimit_errors: tuple[str, ...] = ()  # rlimits that could not be set in the probe


def _child_env(workdir: str, tmpdir: str, pythonpath: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    env.update(
        PATH="/usr/bin:/bin", HOME=workdir, TMPDIR=tmpdir, USER="learner", LOGNAME="learner",
        PYTHONPATH=pythonpath, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1",
        TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"), MPLBACKEND="Agg", MPLCONFIGDIR=tmpdir,
        MALLOC_ARENA_MAX="2",  # fewer 64 MiB malloc arenas: less address space, same speed
    )
    return env


def _local_machine() -> Machine:
    """What `grader check` needs to know: nothing is probed, no namespace is used."""
    off = "not used by `grader check`"
    return Machine(os.geteuid() == 0, Path("/dev/nvidiactl").exists(), (), None, False, off, None, off,
                   False, False, off)


def _probe(argv: list[str], env: dict[str, str]) -> tuple[str, tuple[str, ...]]:
    """('' or what went wrong, rlimits that could not be set) for one probe command."""
    error, output = run_probe(argv, env)
    if error:
        return error, ()
    try:
        return "", tuple(json.loads(output.strip().splitlines()[-1]).get("rlimits_failed", ()))
    except (ValueError, IndexError, AttributeError):
        return f"the probe printed {output[-100:]!r}", ()


@functools.lru_cache(maxsize=1)
def probe_machine() -> Machine:
    """Find out once which defences work here, by starting a tiny Python under each.

    Probing stops at the first mechanism that works (bubblewrap, then unshare, then
    a bare uid drop); it costs about 0.3 s per mechanism tried. The probe confines
    itself exactly as a child does (rlimits, then the uid drop), so an rlimit that
    cannot be set here is reported as a missing defence.
    """
    disabled = set(os.environ.get("GRADER_SANDBOX_DISABLE", "").replace(" ", "").split(","))
    root = os.geteuid() == 0 and "uid" not in disabled
    gpu = Path("/dev/nvidiactl").exists()
    probe_uid = UID_BASE + 99_999_999
    table = list(_rlimit_table(Limits(), None, root))
    own = probe_argv(probe_uid if root else None, table)
    kept = probe_argv(None, list(_rlimit_table(Limits(), None, False)))
    groups = () if "cgroup" in disabled else cgroups.available()
    skipped = "not needed: a stronger mechanism works"
    bwrap = None if "bwrap" in disabled else shutil.which("bwrap")
    failed: tuple[str, ...] = ()
    bwrap_error, bwrap_userns = "bubblewrap (bwrap) is not installed or turned off", not root
    if bwrap:
        env = _child_env(WORKDIR, "/tmp", SANDBOX_LIB)
        bwrap_error, failed = _probe(bwrap_argv(bwrap, 64 * _MiB, env, not root, gpu) + (own if root else kept),
                                     env)
        if bwrap_error and root:  # e.g. the Python install is unreadable for other uids
            bwrap_userns = True
            bwrap_error, failed = _probe(bwrap_argv(bwrap, 64 * _MiB, env, True, gpu) + kept, env)
        if not bwrap_error:
            return Machine(root, gpu, groups, bwrap, bwrap_userns, "", None, skipped, False, False,
                           "" if root and not bwrap_userns else skipped, failed)
    plain_env = _child_env("/", "/tmp", str(PROJECT_ROOT))
    unshare = None if "unshare" in disabled else shutil.which("unshare")
    unshare_error, uid_in_unshare = "unshare (util-linux) is not installed or turned off", False
    if unshare:
        if root:
            error, failed = _probe(unshare_argv(unshare, False) + own, plain_env)
            uid_in_unshare = not error
        if not uid_in_unshare:
            unshare_error, failed = _probe(unshare_argv(unshare, True) + kept, plain_env)
        else:
            unshare_error = ""
    uid_error = "the grader does not run as root" if os.geteuid() != 0 else "turned off"
    uid_in_plain = False
    if root and not uid_in_unshare:
        uid_error, plain_failed = _probe(own, plain_env)
        uid_in_plain = not uid_error
        if uid_error:
            uid_error = f"Python does not start as another uid: {uid_error}"
        elif unshare_error:
            failed = plain_failed
    if unshare_error and not uid_in_plain:
        failed = _probe(kept, plain_env)[1]
    return Machine(root, gpu, groups, None, False, bwrap_error, None if unshare_error else unshare,
                   unshare_error, uid_in_unshare, uid_in_plain, "" if uid_in_unshare else uid_error, failed)


_RLIMIT_DEFENCES = {"RLIMIT_CPU": "CPU time limit", "RLIMIT_FSIZE": "file size limit",
                    "RLIMIT_DATA": "memory limit", "RLIMIT_AS": "memory limit",
                    "RLIMIT_NPROC": "process and thread limit (RLIMIT_NPROC)"}


def demote(active: list[str], missing: list[str], prefix: str, why: str) -> None:
    """A defence that failed: move every active entry starting with `prefix` to missing."""
    for entry in [a for a in active if a.startswith(prefix)]:
        active.remove(entry)
        missing.append(f"{entry} ({why})")


def demote_rlimits(active: list[str], missing: list[str], failed: tuple[str, ...] | list[str]) -> None:
    for name in failed:
        demote(active, missing, _RLIMIT_DEFENCES.get(name, name), f"{name} could not be set")


def _mode(policy: Policy, m: Machine) -> tuple[str, bool]:
    """(bwrap | unshare | plain, whether each child gets a uid of its own)."""
    mode = "plain"
    if policy.isolate:
        mode = "bwrap" if m.bwrap else "unshare" if m.unshare else "plain"
    own_uid = policy.isolate and m.root and {
        "bwrap": not m.bwrap_userns, "unshare": m.uid_in_unshare, "plain": m.uid_in_plain}[mode]
    return mode, own_uid


def _plan(policy: Policy, m: Machine) -> tuple[str, bool, list[str], list[str]]:
    """(mode, own uid?, active defences, missing defences) for this policy on this machine."""
    active = ["time limits (the whole sandbox is killed)", "CPU time limit", "file size limit",
              "output cap", "scrubbed environment", "empty working directory"]
    missing: list[str] = []
    mode, own_uid = _mode(policy, m)
    if policy.isolate and "memory" in m.cgroups:
        active.append("memory limit (cgroup + RLIMIT_DATA)")
    else:
        active.append("memory limit (RLIMIT_DATA, RLIMIT_AS backstop)")
        missing.append("memory cgroup (shared memory is capped by RLIMIT_AS only)"
                       + ("" if policy.isolate else NOT_FOR_CHECK))
    if own_uid:
        active += ["unprivileged uid (one per child)", "process and thread limit (RLIMIT_NPROC)",
                   "every process of a child killed, confirmed by uid"]
    elif policy.isolate and "pids" in m.cgroups:
        active.append("process and thread limit (cgroup)")
    else:
        missing.append("process and thread limit" + ("" if policy.isolate else NOT_FOR_CHECK))
    if not own_uid:
        why = f" ({m.uid_error})" if policy.isolate and mode != "bwrap" else NOT_FOR_CHECK
        if mode in ("bwrap", "unshare"):
            instead = "a user namespace without capabilities instead"
            why = f" ({instead})" if mode == "bwrap" else f" ({m.uid_error}; {instead})"
        missing.append("unprivileged uid of its own" + why)
    if mode != "plain":
        active += ["network namespace", "PID namespace"]
        if not own_uid:
            active.append("every process of a child killed, confirmed by PID namespace")
    else:
        why = f" ({m.bwrap_error}; {m.unshare_error})" if policy.isolate else NOT_FOR_CHECK
        missing += [f"network namespace{why}", f"PID namespace{why}"]
    if mode == "bwrap":
        active += ["filesystem view (bubblewrap)", "size-capped working directory and /tmp"]
    else:
        missing.append("filesystem view" + (f" ({m.bwrap_error})" if policy.isolate else NOT_FOR_CHECK))
    demote_rlimits(active, missing, m.rlimit_errors)
    return mode, own_uid, active, missing


def describe_defences(policy: Policy) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(active, missing) defences for children started with `policy` on this machine."""
    _, _, active, missing = _plan(policy, probe_machine() if policy.isolate else _local_machine())
    return tuple(active), tuple(missing)


def _how_to_get_bwrap(m: Machine) -> str:
    if "bwrap" in os.environ.get("GRADER_SANDBOX_DISABLE", ""):
        return "remove bwrap from GRADER_SANDBOX_DISABLE"
    if shutil.which("bwrap") is None:
        return "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)"
    return (f"bubblewrap is installed but fails here ({m.bwrap_error}): run the grader as root, or "
            "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)")


def missing_protections(policy: Policy) -> tuple[tuple[str, str], ...]:
    """(the missing defence and what it leaves open, how to get it) for each defence that protects
    the solutions, the hidden checks or the host; empty when untrusted code can be graded here."""
    if not policy.isolate:
        return ()
    m = probe_machine()
    mode, own_uid = _mode(policy, m)
    bwrap = _how_to_get_bwrap(m)
    gaps: list[tuple[str, str]] = []
    if mode != "bwrap":
        gaps.append(("filesystem view: learner code could read solutions/, the hidden checks, the MNIST "
                     "test labels and other learners' files, and write into the host's /tmp", bwrap))
    if mode == "plain":
        namespaces = f"{bwrap}; or install util-linux (unshare) and run the grader as root"
        gaps.append(("network namespace: learner code could reach the network and the host's services",
                     namespaces))
        gaps.append(("PID namespace: learner code could see and signal the grader's processes", namespaces))
        if not own_uid:
            gaps.append(("a uid of its own for each child: what a learner leaves running could not all be "
                         "found, and its kill could not be confirmed",
                         "run the grader as root (each child then runs under a uid of its own)"))
    return tuple(gaps)


def _rlimit_table(limits: Limits, address_space: int | None, nproc: bool) -> tuple[tuple[str, int, int], ...]:
    """(resource name, soft, hard) for every rlimit a child gets."""
    memory = limits.memory_mb * _MiB
    caps = [("RLIMIT_CPU", limits.cpu_s, limits.cpu_s + 5),
            ("RLIMIT_DATA", memory, memory),
            ("RLIMIT_FSIZE", limits.file_size_mb * _MiB, limits.file_size_mb * _MiB),
            ("RLIMIT_CORE", 0, 0)]
    if address_space is not None:
        caps.append(("RLIMIT_AS", address_space, address_space))
    if nproc:
        caps.append(("RLIMIT_NPROC", limits.processes, limits.processes))
    return tuple(caps)


def _preexec(cgroup: cgroups.ChildCgroup | None) -> Callable[[], None] | None:
    """Runs in the forked child before exec: join the cgroup (the child then limits itself)."""
    if cgroup is None:
        return None
    return cgroup.join


@dataclass(frozen=True)
class ZygoteLaunch:
    """How to start a warm zygote in the same sandbox a child would get."""

    argv_prefix: list[str]
    env: dict[str, str]
    cwd: str
    workdir: str  # each child's private tmpfs is mounted here, as the zygote sees it


def zygote_launch(policy: Policy, scratch: Path) -> ZygoteLaunch | None:
    """The sandbox for a zygote, or None where forking from one would let learners meet.

    Learners forked from one zygote share its namespaces and filesystem view one
    after another, so each must get its own uid (killed, confirmed, after it) and
    the zygote must be able to give it one, plus a mount namespace with scratch
    tmpfs of its own (the zygote keeps the capabilities for that; see ZYGOTE_CAPS).
    """
    machine = probe_machine() if policy.isolate else _local_machine()
    mode, own_uid = _mode(policy, machine)
    if policy.isolate and not own_uid:
        return None
    if mode == "bwrap":
        assert machine.bwrap is not None
        env = _child_env(WORKDIR, "/tmp", SANDBOX_LIB)
        prefix = bwrap_argv(machine.bwrap, policy.limits.disk_mb * _MiB, env, False, machine.gpu,
                            caps=ZYGOTE_CAPS)
        return ZygoteLaunch(prefix, env, str(scratch), WORKDIR)
    env = _child_env(str(scratch), "/tmp", str(PROJECT_ROOT))
    prefix = []
    if mode == "unshare" and machine.unshare:
        prefix = unshare_argv(machine.unshare, userns=False)
    os.chmod(scratch, 0o755)
    return ZygoteLaunch(prefix, env, str(scratch), str(scratch))


def launch_spec(policy: Policy, scratch: Path, in_fd: int, out_fd: int) -> LaunchSpec:
    """Build the command line and process settings for one child (and its cgroup)."""
    machine = probe_machine() if policy.isolate else _local_machine()
    limits = policy.limits
    mode, own_uid, active, missing = _plan(policy, machine)
    uid = UID_BASE + (os.getpid() * 1000 + next(_uids) % 1000) % 99_000_000 if own_uid else None
    cgroup = None
    if policy.isolate and machine.cgroups:
        cgroup = cgroups.create(uuid.uuid4().hex[:12], limits.memory_mb * _MiB,
                                None if own_uid else limits.processes)
        if (cgroup is None or "memory" not in cgroup.controllers) and "memory" in machine.cgroups:
            demote(active, missing, "memory limit (cgroup", "no memory cgroup could be created for this child")
            active.append("memory limit (RLIMIT_DATA)")
    has_memory_cgroup = cgroup is not None and "memory" in cgroup.controllers
    # Without a cgroup, RLIMIT_AS is the only cap on shared memory: leave room for the ~2.5 GiB
    # of address space TensorFlow maps but never touches. CUDA reserves far more: no cap there.
    backstop = None if has_memory_cgroup or machine.gpu else (limits.memory_mb + 4096) * _MiB
    if mode == "bwrap":
        assert machine.bwrap is not None
        env = _child_env(WORKDIR, "/tmp", SANDBOX_LIB)
        prefix = bwrap_argv(machine.bwrap, limits.disk_mb * _MiB, env, machine.bwrap_userns, machine.gpu)
    else:
        env = _child_env(str(scratch), str(scratch), str(PROJECT_ROOT))
        prefix = []
        if mode == "unshare" and machine.unshare:
            prefix = unshare_argv(machine.unshare, userns=not machine.uid_in_unshare)
        if uid is not None:  # other learners' children (other uids) cannot look inside
            os.chown(scratch, uid, uid)
            os.chmod(scratch, 0o700)
    rlimits = _rlimit_table(limits, backstop, uid is not None)
    return LaunchSpec(
        argv=prefix + child_argv(in_fd, out_fd, uid, rlimits),
        env=env,
        cwd=str(scratch),
        preexec_fn=_preexec(cgroup),
        rlimits=rlimits,
        defences=tuple(active),
        missing=tuple(missing),
        uid=uid,
        cgroup=cgroup,
        wrapped=mode != "plain",
        memory_mb=limits.memory_mb,
    )
