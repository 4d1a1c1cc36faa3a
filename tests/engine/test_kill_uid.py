"""engine/reap.py `kill_uid`: every process of a child's uid is killed, with setpriv or without.

Without setpriv, a forked helper becomes the uid through the one uid drop
(inside/limits.py `drop_privileges`) before it calls kill(-1): as root, kill(-1) without
the drop would kill every process on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from grader.engine import reap
from grader.engine.launch import UID_BASE

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root can start processes as another uid")


def _start_as(uid: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(["sleep", "120"], user=uid, group=uid, extra_groups=[], start_new_session=True)
            for _ in range(2)]


def _gone(processes: list[subprocess.Popen[bytes]], within_s: float = 10) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if all(p.poll() is not None for p in processes):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("setpriv", [True, False], ids=["setpriv", "forked-helper"])
def test_every_process_of_the_uid_dies_and_nothing_else(setpriv: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if setpriv and shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    if not setpriv:
        real = shutil.which
        monkeypatch.setattr(reap.shutil, "which", lambda name, *a, **k: None if name == "setpriv" else real(name))
    uid = UID_BASE + 77_000 + int(setpriv)
    victims = _start_as(uid)
    bystander = _start_as(uid + 1)
    try:
        assert set(reap.pids_of_uid(uid)) >= {p.pid for p in victims}
        reap.kill_uid(uid)
        assert _gone(victims), "a process of the uid survived kill_uid"
        assert all(p.poll() is None for p in bystander), "kill_uid reached another uid's process"
        assert os.getuid() == 0, "the grader itself must keep its uid"
    finally:
        for p in victims + bystander:
            p.kill()
            p.wait()
