"""Honest defence reporting and the one uid drop (grader/engine/inside/limits.py).

A defence that failed to apply is listed as missing, never as active; the uid drop
leaves no capability, no group and no way back, and says so when it cannot.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest

from grader.engine import cgroups
from grader.engine.inside.limits import apply_rlimits, drop_privileges
from grader.engine.launch import demote, demote_rlimits


def test_an_rlimit_that_cannot_be_set_is_reported() -> None:
    assert apply_rlimits([("RLIMIT_CORE", 10, 5), ("RLIMIT_NO_SUCH_THING", 1, 1)]) == [
        "RLIMIT_CORE", "RLIMIT_NO_SUCH_THING"]


def test_a_failed_defence_moves_from_active_to_missing() -> None:
    active = ["CPU time limit", "file size limit", "memory limit (cgroup + RLIMIT_DATA)", "output cap"]
    missing: list[str] = []
    demote_rlimits(active, missing, ["RLIMIT_CPU"])
    demote(active, missing, "memory limit (cgroup", "the child could not be moved into its memory cgroup")
    assert active == ["file size limit", "output cap"]
    assert missing == ["CPU time limit (RLIMIT_CPU could not be set)",
                       "memory limit (cgroup + RLIMIT_DATA) (the child could not be moved into its memory cgroup)"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can drop to another uid")
def test_the_uid_drop_leaves_no_privilege_and_is_verified() -> None:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop, then try to get root back
        try:
            drop_privileges(1_999_999_001)
            status = open("/proc/self/status").read()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            try:
                os.setuid(0)
                regained = True
            except PermissionError:
                regained = False
            report = {k: fields[k].strip() for k in ("Uid", "CapEff", "CapPrm", "CapBnd", "NoNewPrivs")}
            os.write(write_fd, json.dumps({**report, "regained": regained}).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as answer:
        report = json.loads(answer.read())
    os.waitpid(pid, 0)
    assert report["Uid"].split() == ["1999999001"] * 4
    assert int(report["CapEff"], 16) == int(report["CapPrm"], 16) == int(report["CapBnd"], 16) == 0
    assert report["NoNewPrivs"] == "1" and report["regained"] is False


def test_a_process_outside_its_cgroup_is_reported() -> None:
    if not cgroups.available():
        pytest.skip("no writable cgroup on this machine")
    group = cgroups.create("t" + uuid.uuid4().hex[:10], 1 << 30, 64)
    assert group is not None
    try:
        assert set(group.missing_members([os.getpid()])) == set(group.controllers)
        assert group.missing_members([]) == list(group.controllers)
    finally:
        group.remove()
