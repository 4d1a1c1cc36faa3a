"""The hostile suite: attackers' ex03 submissions (tests/hostile/), graded with isolation on.

Each attack asserts that
- the score is never higher than what the honest outputs earn (an attacked function's
  checks all score 0; the total is at most what the other functions' checks are worth);
- grading completes, within a bound;
- the host is unchanged: no marker file outside the sandbox, no process left (by marker,
  and by the child's own uid), no scratch directory and no cgroup left behind;
- the feedback names the reason.

A test whose defence is missing on this machine is skipped with the defence's name
(docs/security.md says what stays open there). Sessions are started one test ahead, so
that a child's TensorFlow import overlaps with the previous test's grading.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import grader.checking.session
import grader.engine.child
import grader.engine.zygote
from grader.checking.outcomes import Status
from grader.checking.runner import RunOptions, run_checks
from grader.checking.session import LearnerSession
from grader.checking.submission import load_submission
from grader.course.exercises import PROJECT_ROOT, find_exercise
from grader.engine import launch as sandbox
from grader.engine.policy import Limits, Policy

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
MNIST_DIR = Path(os.environ.get("MNIST_DIR", PROJECT_ROOT / "data" / "mnist"))
FUNCTIONS = ("sigmoid", "tanh", "relu", "softmax")
SECRET = "s3cret-instructor-token"


@dataclass(frozen=True)
class Attack:
    """One hostile file, the limits it runs under and what must come out of it."""

    file: str
    reasons: dict[str, tuple[str, ...]]  # attacked function -> words of its first check's feedback
    honest: tuple[str, ...] = ()  # functions whose first check must still pass
    limits: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # defences (prefixes of describe_defences names) it relies on
    optional: dict[str, str] = field(default_factory=dict)  # function -> defence its reason needs


TIMEOUT = ("did not finish in time",)
ATTACKS = {
    "infinite_loop": Attack("ex03_infinite_loop.py", {"sigmoid": TIMEOUT}, limits={"call_timeout_s": 3}),
    "cpu_time": Attack("ex03_cpu_burn.py", {"sigmoid": ("more CPU time than allowed",)},
                       honest=("tanh", "relu", "softmax"), limits={"cpu_s": 6, "call_timeout_s": 40},
                       needs=("CPU time limit",)),
    "odd_values": Attack("ex03_odd_values.py", {"sigmoid": ("must return a tensor",), "tanh": ("nan",),
                                                "relu": ("wrong values",), "softmax": ("must return a tensor",)}),
    "memory_bomb": Attack("ex03_memory_bomb.py", {f: ("too much memory",) for f in ("sigmoid", "tanh")},
                          honest=("relu", "softmax"), limits={"memory_mb": 1200, "call_timeout_s": 20},
                          optional={"tanh": "memory limit (cgroup"}),
    "fork_and_thread_bomb": Attack("ex03_fork_and_thread_bomb.py",
                                   {"sigmoid": ("fork bomb stopped after",), "tanh": ("thread bomb stopped after",)},
                                   honest=("relu", "softmax"), limits={"processes": 64},
                                   needs=("process and thread limit",)),
    "output_flood": Attack("ex03_output_flood.py", {"tanh": ("wrong values",), "relu": TIMEOUT},
                           honest=("sigmoid",), limits={"call_timeout_s": 3}),
    "exits": Attack("ex03_exits.py", {"sigmoid": ("SystemExit",), "tanh": ("sys.exit or os._exit",),
                                      "relu": ("sys.exit or os._exit",), "softmax": ("twice",)}),
    "crashes": Attack("ex03_crashes.py", {"sigmoid": ("RecursionError",), "tanh": ("segmentation fault",),
                                          "relu": ("recursion far too deep",), "softmax": ("twice",)}),
    "escape": Attack("ex03_escape.py", {"sigmoid": ("kill(parent 1)",),
                                        "tanh": ("No space left on device",),
                                        "relu": ("Network is unreachable",)},
                     honest=("softmax",), limits={"disk_mb": 64},
                     needs=("PID namespace", "network namespace", "filesystem view"),
                     optional={"tanh": "size-capped"}),
    "snooping": Attack("ex03_snooping.py", {"sigmoid": ("no solutions found",),
                                            "tanh": ("no hidden checks and no MNIST labels",),
                                            "relu": ("no secret found",)},
                       honest=("softmax",), needs=("filesystem view",)),
    "patching": Attack("ex03_patching.py", {"sigmoid": ("wrong values",), "tanh": ("wrong values",),
                                            "relu": ("wrong values",), "softmax": ("sum to 1",)}),
    "protocol_forgery": Attack("ex03_protocol_forgery.py", {"sigmoid": ("wrong shape",),
                                                            "tanh": ("does not match the question",),
                                                            "relu": ("malformed message",)}),
    "return_values": Attack("ex03_return_values.py", {"sigmoid": ("larger than the 64 MiB limit",),
                                                      "tanh": ("cannot be sent",),
                                                      "relu": ("nested too deeply",), "softmax": TIMEOUT}),
    "import_error": Attack("ex03_import_error.py", {f: ("could not be imported",) for f in FUNCTIONS}),
}
ORDER = list(ATTACKS)


# ---------------------------------------------------------------- the host's view


def processes_with(marker: str) -> list[str]:
    """Live processes whose name or command line contains `marker`.

    A zombie handed to init (PPid 1) is dead: reaping it is init's job, not the grader's.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "comm").read_text() + (entry / "cmdline").read_bytes().decode("utf-8", "replace")
                status = (entry / "status").read_text()
            except OSError:
                continue
            if marker in text and not ("\nState:\tZ" in status and "\nPPid:\t1\n" in status):
                found.append(f"{entry.name}: {text.strip()[:100]}")
    return found


def processes_of_uid(uid: int) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"\nUid:\t{uid}\t" in (entry / "status").read_text():
                found.append(entry.name)
        except OSError:
            continue
    return found


def files_with(marker: str, *roots: Path) -> list[Path]:
    found = [p for root in roots for p in root.glob(f"*{marker}*")]
    return found + [p for p in (Path("/") / marker,) if p.exists()]


class _RecordingChild(grader.engine.child.Child):
    """A Child that remembers itself under the attack that is starting it."""

    owner = ""
    made: dict[str, list[grader.engine.child.Child]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made.setdefault(_RecordingChild.owner, []).append(self)


@dataclass
class Host:
    """The host-side fixtures every attack shares: a watched folder, a listener, secrets."""

    dir: Path
    other_learner: Path
    listener: socket.socket
    sessions: dict[str, tuple[LearnerSession, str, Path]] = field(default_factory=dict)

    def start(self, name: str) -> tuple[LearnerSession, str, Path]:
        """The session for attack `name` (started now unless it was started ahead)."""
        if name not in self.sessions:
            attack = ATTACKS[name]
            marker = "hx" + uuid.uuid4().hex[:10]
            source = (HOSTILE / attack.file).read_text()
            for key, value in {"@@MARKER@@": marker, "@@HOST_DIR@@": str(self.dir),
                               "@@PROJECT_ROOT@@": str(PROJECT_ROOT), "@@MNIST_DIR@@": str(MNIST_DIR),
                               "@@OTHER_LEARNER@@": str(self.other_learner),
                               "@@PORT@@": str(self.listener.getsockname()[1])}.items():
                source = source.replace(key, value)
            folder = self.dir / "learners" / name
            folder.mkdir(parents=True)
            (folder / "ex03_activations.py").write_text(source)
            policy = Policy(isolate=True, limits=Limits(**{"call_timeout_s": 4.0, **attack.limits}))
            session = LearnerSession(load_submission(folder), policy)
            _RecordingChild.owner = name
            session.start()
            self.sessions[name] = (session, marker, folder)
        return self.sessions[name]


@pytest.fixture(autouse=True)
def attacks_really_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The static forbidden-API analysis would refuse most attacks before they run (ctypes,
    runpy, inspect...). Turned off here, so that what is proven is the sandbox alone;
    tests/test_forbidden*.py prove the analysis."""
    monkeypatch.setenv("GRADER_API_GUARD", "0")


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    saved = {k: os.environ.get(k) for k in ("GRADER_INSTRUCTOR_TOKEN", "GRADER_SEED", "MNIST_DIR")}
    os.environ.update(GRADER_INSTRUCTOR_TOKEN=SECRET, GRADER_SEED="424242", MNIST_DIR=str(MNIST_DIR))
    patch = pytest.MonkeyPatch()
    patch.setattr(grader.checking.session, "Child", _RecordingChild)
    root = tmp_path_factory.mktemp("hostile-host")
    other = root / "other-learner" / "ex03_activations.py"
    other.parent.mkdir()
    other.write_text(f"# another learner's work, {SECRET}\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    state = Host(root, other, listener)
    try:
        yield state
    finally:
        for session, _, _ in state.sessions.values():
            session.close()
        listener.close()
        patch.undo()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _functions(title: str) -> set[str]:
    return {f for f in FUNCTIONS if f in title}


def assert_host_unchanged(host: Host, name: str, marker: str) -> None:
    for child in _RecordingChild.made.get(name, []):
        assert not child.alive and not child.scratch.exists(), "a child or its scratch directory survived"
        spec = child._spec
        if spec.uid is not None:
            assert processes_of_uid(spec.uid) == [], f"processes of uid {spec.uid} survived"
        if spec.cgroup is not None:
            assert not any(path.exists() for _, path in spec.cgroup.dirs.values()), "a cgroup was left"
    assert processes_with(marker) == []
    assert files_with(marker, host.dir, Path("/tmp"), PROJECT_ROOT, PROJECT_ROOT.parent) == []
    assert not (host.dir / "results.json").exists()
    with pytest.raises(BlockingIOError):
        host.listener.accept()  # nobody reached the host's loopback


def _active(defence: str) -> bool:
    return any(a.startswith(defence) for a in sandbox.describe_defences(Policy(isolate=True))[0])


def _require(needs: tuple[str, ...]) -> None:
    lacking = [n for n in needs if not _active(n)]
    if lacking:
        pytest.skip(f"defence missing on this machine: {', '.join(lacking)} (see docs/security.md)")


@pytest.mark.parametrize("name", ORDER)
def test_hostile_submission(host: Host, name: str) -> None:
    attack = ATTACKS[name]
    _require(attack.needs)
    session, marker, folder = host.start(name)
    following = ORDER[ORDER.index(name) + 1:]
    if following:  # its TensorFlow import overlaps with this grading
        host.start(following[0])
    started = time.monotonic()
    result = run_checks(load_submission(folder), (find_exercise("ex03"),),
                        RunOptions(hidden=True, seed=1, policy=session.policy), session)
    output = session.output()
    session.close()
    elapsed = time.monotonic() - started
    exercise = result.exercises[0]
    report = "\n".join(f"[{t.status.value}] {t.name}: {t.feedback[:300]}" for t in exercise.tests)

    assert elapsed < 120, f"grading took {elapsed:.0f} s"
    assert {f for t in exercise.tests for f in _functions(t.name)} == set(FUNCTIONS), report
    attacked = set(attack.reasons)
    honest_bound = sum(t.max_points for t in exercise.tests if not _functions(t.name) & attacked)
    assert exercise.points <= honest_bound, report
    for test in exercise.tests:
        if _functions(test.name) & attacked:
            assert test.status is not Status.PASSED and test.points == 0, report
    for function, words in attack.reasons.items():
        if function in attack.optional and not _active(attack.optional[function]):
            continue  # the score bound above still holds; the reason depends on that defence
        first = next(t for t in exercise.tests if function in _functions(t.name))
        assert any(w in first.feedback for w in words), f"{function}: expected {words}\n{report}"
    for function in attack.honest:
        first = next(t for t in exercise.tests if _functions(t.name) == {function})
        assert first.status is Status.PASSED, report
    assert len(output) <= session.policy.limits.output_kb * 1024 + 200
    if name == "output_flood":
        assert "more bytes of output were cut" in output
    if name in ("escape",):
        time.sleep(3)  # the daemon would write its markers 2 s after it started
    assert_host_unchanged(host, name, marker)
    assert not list(host.dir.glob(f"*{marker}-unpickled"))


SIGNAL_SCRIPT = """
import os, sys, time
from pathlib import Path
from grader.engine.child import Child
from grader.engine.policy import Limits, Policy
import numpy as np
source = "import time\\ndef sigmoid(x):\\n    time.sleep(60)\\n"
child = Child({"ex03_activations": {"source": source, "filename": "ex03_activations.py"}},
              Policy(isolate=True, limits=Limits(call_timeout_s=120)))
uid = child._spec.uid
print(child.scratch, child.process.pid, -1 if uid is None else uid, flush=True)
child.call("ex03_activations", "sigmoid", (np.zeros(2),))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signals_to_the_grader_stop_the_child_and_clean_up(signum: int) -> None:
    grading = subprocess.Popen([sys.executable, "-c", SIGNAL_SCRIPT], stdout=subprocess.PIPE, text=True,
                               cwd=PROJECT_ROOT, stderr=subprocess.DEVNULL)
    try:
        assert grading.stdout is not None
        ready, _, _ = select.select([grading.stdout], [], [], 120)
        assert ready, "the grading process did not start a child"
        scratch, pid, uid = grading.stdout.readline().split()
        time.sleep(1.0)
        assert Path(scratch).exists()
        grading.send_signal(signum)
        grading.wait(timeout=30)
    finally:
        grading.kill()
    assert not Path(scratch).exists()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)
    if int(uid) >= 0:
        assert processes_of_uid(int(uid)) == []


def test_the_fallback_without_namespaces_still_removes_a_daemon(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "bwrap,unshare")
    sandbox.probe_machine.cache_clear()
    try:
        active, missing = sandbox.describe_defences(Policy(isolate=True))
        assert any(m.startswith("filesystem view") for m in missing)
        assert any(m.startswith("PID namespace") for m in missing)
        if not any(a.startswith(("memory limit (cgroup", "unprivileged uid")) for a in active):
            pytest.skip("neither a cgroup nor a uid drop: a daemon can escape (see docs/security.md)")
        marker = "hx" + uuid.uuid4().hex[:10]
        source = (HOSTILE / "ex03_daemon.py").read_text()
        source = source.replace("@@MARKER@@", marker).replace("@@HOST_DIR@@", str(tmp_path))
        (tmp_path / "ex03_activations.py").write_text(textwrap.dedent(source))
        policy = Policy(isolate=True, limits=Limits(call_timeout_s=4))
        result = run_checks(load_submission(tmp_path), (find_exercise("ex03"),),
                            RunOptions(hidden=True, seed=1, policy=policy))
        assert result.exercises[0].points == result.exercises[0].max_points
        assert processes_with(marker) == []
        time.sleep(6)
        assert processes_with(marker) == []
        assert files_with(marker, tmp_path, Path("/tmp")) == []
    finally:
        sandbox.probe_machine.cache_clear()


def test_defences_are_described_and_fallbacks_reported() -> None:
    active, missing = sandbox.describe_defences(Policy(isolate=True))
    assert active and all(isinstance(d, str) for d in active + missing)
    assert "time limits (the whole sandbox is killed)" in active
    local_active, local_missing = sandbox.describe_defences(Policy(isolate=False))
    assert any("not used by `grader check`" in m for m in local_missing)
    code = ("from grader.engine.launch import describe_defences, Policy; "
            "a, m = describe_defences(Policy(isolate=True)); print('|'.join(m))")
    env = {**os.environ, "GRADER_SANDBOX_DISABLE": "bwrap,unshare,cgroup,uid"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=PROJECT_ROOT, timeout=60).stdout
    for defence in ("network namespace", "PID namespace", "filesystem view", "memory cgroup",
                    "unprivileged uid"):
        assert defence in out, out


@pytest.mark.parametrize("isolate", [True, False], ids=["grade", "check"])
def test_a_child_that_stops_reading_cannot_block_the_parent(isolate: bool) -> None:
    """ex03_stops_itself: SIGSTOP after an answer; the next request is larger than a pipe."""
    import numpy as np

    source = (HOSTILE / "ex03_stops_itself.py").read_text()
    policy = Policy(isolate=isolate, warm=isolate, limits=Limits(call_timeout_s=3))
    child = grader.engine.child.Child({"ex03_activations": {"source": source,
                                                     "filename": "ex03_activations.py"}}, policy)
    try:
        got = child.call("ex03_activations", "sigmoid", (np.zeros(3, np.float32),), tensors=True)
        np.testing.assert_allclose(got, 0.5)
        time.sleep(0.8)  # the thread has stopped the child
        started = time.monotonic()
        with pytest.raises(grader.engine.child.CallTimeout):
            child.call("ex03_activations", "tanh", (np.zeros((1024, 1024), np.float32),))
        assert time.monotonic() - started < 6
        assert not child.alive
    finally:
        child.close()
        if isolate:
            grader.engine.zygote.close_zygotes()
