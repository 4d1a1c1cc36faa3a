"""The warm zygote: children forked after `import tensorflow` are correct, fresh and isolated.

Batch grading forks each learner's child from a zygote that has imported
TensorFlow once. These tests prove that learners who follow each other through
one zygote cannot see each other, that nothing they start survives them, and
that a timeout or a crash leaves the zygote usable for the next learner.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from helpers import solution_source

from grader.checking.outcomes import Status
from grader.checking.runner import RunOptions, run_checks
from grader.checking.submission import load_submission
from grader.course.exercises import find_exercise
from grader.engine.policy import Limits, Policy
from grader.engine.zygote import close_zygotes, warm_zygote

POLICY = Policy(isolate=True, warm=True, limits=Limits(call_timeout_s=5))
EX03 = find_exercise("ex03")
RELU = "def relu(x: tf.Tensor) -> tf.Tensor:"



@pytest.fixture(autouse=True)
def attacks_really_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The static forbidden-API analysis would refuse ctypes before it runs: off here, so that
    the crash really happens in the child (tests/test_forbidden*.py prove the analysis)."""
    monkeypatch.setenv("GRADER_API_GUARD", "0")


@pytest.fixture(autouse=True, scope="module")
def _stop_zygotes():
    yield
    close_zygotes()


def _grade(folder: Path, source: str, exercise=EX03, hidden=False):
    folder.mkdir()
    (folder / exercise.filename).write_text(source)
    return run_checks(load_submission(folder), (exercise,), RunOptions(hidden=hidden, seed=5, policy=POLICY))


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                    if marker.encode() in cmdline.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_forked_children_compute_gradients_correctly(tmp_path):
    if warm_zygote(POLICY) is None:
        pytest.fail("no zygote could be started although the sandbox allows one here")
    result = _grade(tmp_path / "a", solution_source("ex06"), find_exercise("ex06"), hidden=True)
    exercise = result.exercises[0]
    assert exercise.points == exercise.max_points > 0, [t.feedback for t in exercise.tests]


def test_learners_through_one_zygote_cannot_see_each_other(tmp_path):
    marker = "leakmark" + uuid.uuid4().hex[:10]
    leaver = solution_source("ex03").replace(
        "def relu(x: tf.Tensor) -> tf.Tensor:",
        f'''def relu(x: tf.Tensor) -> tf.Tensor:
    import os, subprocess
    for folder in ("/tmp", "/dev/shm", os.environ["HOME"]):
        with open(os.path.join(folder, "{marker}"), "w") as leak:
            leak.write("secret of learner A")
    subprocess.Popen(["/bin/sh", "-c", "sleep 30 # {marker}"], start_new_session=True)
''',
    )
    assert leaver != solution_source("ex03")
    first = _grade(tmp_path / "a", leaver)
    relu_tests = [t for t in first.exercises[0].tests if "relu" in t.name.lower()]
    assert relu_tests and all(t.status is Status.PASSED for t in relu_tests)
    assert _processes_with(marker) == [], "learner A's background process survived"

    snooper = solution_source("ex03").replace(
        "def relu(x: tf.Tensor) -> tf.Tensor:",
        '''def relu(x: tf.Tensor) -> tf.Tensor:
    import glob, os
    seen = glob.glob("/tmp/*") + glob.glob("/dev/shm/*") + glob.glob("/home/*/*") + glob.glob("/home/*/*/*")
    found = [p for p in seen if os.path.basename(p).startswith("leakmark")]
    procs = []
    for pid in os.listdir("/proc"):
        try:
            procs.append(open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace"))
        except OSError:
            pass
    raise RuntimeError("FOUND " + repr(found) + " " + repr([c for c in procs if "leakmark" in c and "RuntimeError" not in c]))
''',
    )
    second = _grade(tmp_path / "b", snooper)
    feedback = "\n".join(t.feedback for t in second.exercises[0].tests if "relu" in t.name.lower())
    assert "FOUND [] []" in feedback, feedback
    assert marker not in feedback


def test_a_timeout_kills_only_that_learner_and_the_zygote_serves_the_next(tmp_path):
    looping = solution_source("ex03").replace(RELU, RELU + "\n    while True:\n        pass\n")
    stuck = _grade(tmp_path / "a", looping)
    statuses = {t.status for t in stuck.exercises[0].tests if "relu" in t.name.lower()}
    assert statuses == {Status.TIMEOUT}
    assert "did not finish in time" in stuck.exercises[0].tests[-1].feedback or any(
        "did not finish in time" in t.feedback for t in stuck.exercises[0].tests)
    after = _grade(tmp_path / "b", solution_source("ex03"))
    assert after.exercises[0].points == after.exercises[0].max_points > 0


def test_a_crash_is_reported_with_its_signal_and_leaves_no_process(tmp_path):
    crashing = solution_source("ex03").replace(
        RELU, RELU + "\n    import ctypes\n    ctypes.string_at(0)\n")
    crashed = _grade(tmp_path / "a", crashing)
    feedback = " ".join(t.feedback for t in crashed.exercises[0].tests if "relu" in t.name.lower())
    assert "segmentation fault" in feedback
    zygote = warm_zygote(POLICY)
    assert zygote is not None and zygote.alive
    learner_processes = [pid for pid in _descendants(zygote.process.pid) if _uid(pid) >= 1_900_000_000]
    assert learner_processes == [], "a learner's process outlived its crash"


def _descendants(root: int) -> list[int]:
    """Every process below `root` (by parent pid, as the host sees them)."""
    parents: dict[int, int] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for line in _status_lines(pid):
                if line.startswith("PPid:"):
                    parents[int(pid)] = int(line.split()[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _uid(pid: int) -> int:
    for line in _status_lines(str(pid)):
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return -1


def _status_lines(pid: str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return []


def test_a_learner_cannot_poison_the_workdir_or_ipc_of_the_next(tmp_path):
    """ex03_poisons_next_learner: pre-made scratch folders, a junk file, System V IPC."""
    marker = "poison" + uuid.uuid4().hex[:10]
    hostile = Path(__file__).resolve().parents[1] / "hostile" / "ex03_poisons_next_learner.py"
    _grade(tmp_path / "a", hostile.read_text().replace("@@MARKER@@", marker))
    looker = solution_source("ex03").replace(
        RELU,
        RELU + '''
    import os
    foreign = [n for n in os.listdir("/home/learner") if n.startswith(("learner-", "poison"))
               and os.path.join("/home/learner", n) != os.getcwd()]
    ipc = [line.split()[:2] for kind in ("shm", "msg")
           for line in open(f"/proc/sysvipc/{kind}").read().splitlines()[1:]]
    if foreign or ipc:
        raise RuntimeError(f"POISONED {foreign} {ipc}")
''')
    after = _grade(tmp_path / "b", looker)
    exercise = after.exercises[0]
    assert exercise.points == exercise.max_points > 0, [t.feedback for t in exercise.tests]


INODE_FLOOD = RELU + '''
    import os, time
    made, stop, reason = 0, time.monotonic() + 6, "time"
    for root in ("/tmp", "/dev/shm", os.environ["HOME"]):
        try:
            while time.monotonic() < stop:
                os.mkdir(os.path.join(root, "d%d" % made))
                made += 1
        except OSError as exc:
            reason = exc.strerror
    raise RuntimeError("MADE %d STOPPED %s" % (made, reason))
'''


def test_a_learner_who_fills_scratch_with_inodes_does_not_slow_the_next(tmp_path):
    """Finding 6: millions of empty folders made the zygote's wipe outlast its control timeout.

    Each forked child's tmpfs now has an inode cap and is freed by the kernel when the child
    dies; nothing is wiped by the zygote, so the next learner is graded normally and fast.
    """
    flood = _grade(tmp_path / "a", solution_source("ex03").replace(RELU, INODE_FLOOD))
    feedback = " ".join(t.feedback for t in flood.exercises[0].tests if "relu" in t.name.lower())
    assert "MADE" in feedback, feedback
    made = int(feedback.split("MADE ")[1].split()[0])
    assert "No space left on device" in feedback, feedback
    assert made <= 3 * POLICY.limits.inodes, made
    zygote = warm_zygote(POLICY)
    started = time.monotonic()
    after = _grade(tmp_path / "b", solution_source("ex03"))
    elapsed = time.monotonic() - started
    assert warm_zygote(POLICY) is zygote, "the zygote had to be replaced"
    assert after.exercises[0].points == after.exercises[0].max_points > 0
    assert elapsed < 30, f"the next learner took {elapsed:.1f} s"
