"""The sandbox plan (engine/launch.py `_plan`): which defences a child gets on which machine.

Pure unit tests on made-up machines: a defence the machine cannot give is never listed as
active (an instructor would trust a sandbox that is not there), and one it gives is never
listed as missing (a needless refusal to grade).
"""

from __future__ import annotations

from dataclasses import replace

from grader.engine.launch import NOT_FOR_CHECK, Machine, _plan
from grader.engine.policy import Policy

GRADING = Policy(isolate=True)
CHECKING = Policy(isolate=False)

STRONG = Machine(root=True, gpu=False, cgroups=("memory", "pids"), bwrap="/usr/bin/bwrap", bwrap_userns=False,
                 bwrap_error="", unshare=None, unshare_error="not needed", uid_in_unshare=False,
                 uid_in_plain=False, uid_error="")
BARE = Machine(root=False, gpu=False, cgroups=(), bwrap=None, bwrap_userns=False,
               bwrap_error="bubblewrap (bwrap) is not installed", unshare=None,
               unshare_error="unshare (util-linux) is not installed", uid_in_unshare=False,
               uid_in_plain=False, uid_error="the grader does not run as root")


def _names(entries: list[str]) -> str:
    return " | ".join(entries)


def test_a_root_machine_with_bubblewrap_and_cgroups_gets_every_defence() -> None:
    mode, own_uid, active, missing = _plan(GRADING, STRONG)
    assert (mode, own_uid) == ("bwrap", True)
    for defence in ("filesystem view (bubblewrap)", "network namespace", "PID namespace",
                    "unprivileged uid (one per child)", "memory limit (cgroup + RLIMIT_DATA)",
                    "process and thread limit (RLIMIT_NPROC)", "CPU time limit"):
        assert defence in active, _names(active)
    assert missing == []


def test_a_bare_machine_lists_what_it_lacks_as_missing_never_as_active() -> None:
    mode, own_uid, active, missing = _plan(GRADING, BARE)
    assert (mode, own_uid) == ("plain", False)
    text = _names(active)
    for absent in ("filesystem view", "network namespace", "PID namespace", "unprivileged uid",
                   "cgroup", "process and thread limit"):
        assert absent not in text, text
    joined = _names(missing)
    for gap in ("filesystem view (bubblewrap (bwrap) is not installed)", "network namespace",
                "unprivileged uid of its own (the grader does not run as root)", "memory cgroup",
                "process and thread limit"):
        assert gap in joined, joined


def test_bubblewrap_in_a_user_namespace_gives_no_uid_of_its_own() -> None:
    mode, own_uid, active, missing = _plan(GRADING, replace(STRONG, root=False, bwrap_userns=True,
                                                            cgroups=()))
    assert (mode, own_uid) == ("bwrap", False)
    assert "every process of a child killed, confirmed by PID namespace" in active
    assert "unprivileged uid of its own (a user namespace without capabilities instead)" in missing
    assert "unprivileged uid (one per child)" not in active


def test_unshare_without_bubblewrap_has_namespaces_but_no_filesystem_view() -> None:
    machine = replace(BARE, root=True, unshare="/usr/bin/unshare", unshare_error="", uid_in_unshare=True)
    mode, own_uid, active, missing = _plan(GRADING, machine)
    assert (mode, own_uid) == ("unshare", True)
    assert {"network namespace", "PID namespace", "unprivileged uid (one per child)"} <= set(active)
    assert any(m.startswith("filesystem view") for m in missing)


def test_an_rlimit_the_probe_could_not_set_is_missing_not_active() -> None:
    _, _, active, missing = _plan(GRADING, replace(STRONG, rlimit_errors=("RLIMIT_CPU", "RLIMIT_FSIZE")))
    assert "CPU time limit" not in active and "file size limit" not in active
    assert "CPU time limit (RLIMIT_CPU could not be set)" in missing
    assert "file size limit (RLIMIT_FSIZE could not be set)" in missing


def test_grader_check_says_which_defences_it_does_not_use() -> None:
    mode, own_uid, active, missing = _plan(CHECKING, STRONG)
    assert (mode, own_uid) == ("plain", False)  # a learner's own check: no sandbox, however strong the machine
    assert missing and all(m.endswith(NOT_FOR_CHECK) for m in missing if "could not" not in m), missing
    assert "filesystem view (bubblewrap)" not in active

