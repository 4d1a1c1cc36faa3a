"""`grader grade --cluster/--scheduler`: grading on real Dask workers, real processes, real signals.

Only ex02 and ex03 are graded (cheap). One LocalCluster of 2 workers serves the module;
its workers are SIGKILLed on purpose, and the last test closes it and checks that no
zygote or learner process of its workers is left.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from helpers import alive, descendants, solution_source, solution_variant, stub_source

pytest.importorskip("distributed", reason="Dask is in the test extra: pip install -e '.[test]'")

from grader.checking.job import GradeJob, LearnerResult  # noqa: E402
from grader.course.exercises import PROJECT_ROOT, find_exercise  # noqa: E402
from grader.instructor.cluster import ClusterTarget, open_client, run_jobs_on  # noqa: E402
from grader.instructor.cluster_worker import grade_payload  # noqa: E402
from grader.instructor.intake import discover  # noqa: E402
from grader.instructor.journal import JOURNAL_NAME  # noqa: E402

GRADER = shutil.which("grader") or f"{sys.executable} -m grader.cli.main"
EXERCISES = ("ex02", "ex03")
ARGS = ["--exercises", "ex02,ex03", "--seed", "7", "--timeout", "5"]


# ---------------------------------------------------------------- the class and processes


def build_class(root: Path) -> None:
    """Four learners: full marks in a folder and in a zip, a partial one, stubs."""
    e2, e3 = find_exercise("ex02").filename, find_exercise("ex03").filename
    s2, s3 = solution_source("ex02"), solution_source("ex03")
    folders = {
        "alice_full": {e2: s2, f"work/{e3}": s3},
        "gina_stubs": {e2: stub_source("ex02"), e3: stub_source("ex03")},
        "liam_endless_loop": {e2: solution_variant("ex02", "keepdims=True) + b", "keepdims=True)"),
                              e3: solution_variant("ex03", "    return tf.maximum(x, tf.zeros_like(x))",
                                           "    while True:\n        pass")},
    }
    for name, files in folders.items():
        for path, text in files.items():
            (root / name / path).parent.mkdir(parents=True, exist_ok=True)
            (root / name / path).write_text(text)
    with zipfile.ZipFile(root / "carol_zip.zip", "w") as archive:
        archive.writestr(f"hw/{e2}", s2)
        archive.writestr(f"hw/{e3}", s3)


def _jobs(root: Path) -> list[GradeJob]:
    return [GradeJob(e.learner, str(e.path), e.kind, str(root / ".work" / e.learner), EXERCISES, 7, 120.0, 5.0)
            for e in discover(root)]


def _assert_all_gone(processes: set[tuple[int, str]], within_s: float = 20) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and any(map(alive, processes)):
        time.sleep(0.2)
    left = [p for p in processes if alive(p)]
    assert not left, "processes left behind: " + ", ".join(
        Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:120] for pid, _ in left)


def _comparable(result: LearnerResult) -> dict[str, Any]:
    """A result without its timings (and the content hash, which the batch adds)."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()
                    if k not in ("timings", "duration_s", "content_hash")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return strip(result.to_dict())


# ---------------------------------------------------------------- tasks that kill their worker (test only)

def grade_or_die(marker: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Grade, except: a learner named killer_* kills its worker every time; liam's first try is
    SIGKILLed 2.5 s into grading, after recording every process the worker has started."""
    learner = payload["job"]["learner"]
    if learner.startswith("killer"):
        os.kill(os.getpid(), signal.SIGKILL)
    if learner.startswith("liam") and not os.path.exists(marker):
        def die() -> None:
            Path(marker).write_text(json.dumps([[pid, start, _cmdline(pid)]
                                                for pid, start in sorted(descendants(os.getpid()))]))
            os.kill(os.getpid(), signal.SIGKILL)
        threading.Timer(2.5, die).start()
    return grade_payload(payload)


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def cluster() -> Any:
    """A real LocalCluster(2 workers) with warm zygotes; the last test closes it."""
    context = open_client(ClusterTarget(local_workers=2), EXERCISES, call_timeout_s=5.0)
    client = context.__enter__()
    client.test_context = context
    yield client
    context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class") / "subs"
    root.mkdir()
    build_class(root)
    return root


def _grade_on(client: Any, jobs: list[GradeJob], function: Any = None) -> dict[str, LearnerResult]:
    results: dict[str, LearnerResult] = {}
    started: list[str] = []

    def collect(result: LearnerResult) -> None:
        assert result.learner not in results, f"{result.learner} reported twice"
        results[result.learner] = result

    run_jobs_on(client, jobs, lambda job: 600.0, collect, lambda job: started.append(job.learner), function)
    assert sorted(started) == sorted(j.learner for j in jobs)
    return results


# ---------------------------------------------------------------- tests

def test_every_worker_has_its_own_zygote_parented_by_the_worker_process(cluster: Any) -> None:
    pids = cluster.run(os.getpid)
    assert len(pids) == 2
    for pid in pids.values():
        names = [Path(f"/proc/{p}/cmdline").read_text() for p, _ in descendants(pid) if alive((p, _))]
        assert any("grader.engine.inside.zygote_main" in n for n in names), f"worker {pid} has no zygote: {names}"
        # The zygote's sandbox is the worker's direct child (the main process, not a helper).
        direct = [p for p in map(int, filter(str.isdigit, os.listdir("/proc")))
                  if _ppid(p) == pid and "grader.engine.inside.zygote_main" in _cmdline(p)]
        assert direct, f"no zygote started directly by worker {pid}"


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def test_a_worker_killed_mid_learner_loses_no_learner_and_leaves_no_process(
        cluster: Any, class_dir: Path, local_grades: Path, tmp_path: Path) -> None:
    jobs = _jobs(class_dir)
    reference = {job.learner: LearnerResult.from_dict(json.loads(
        (local_grades / job.learner / "result.json").read_text())) for job in jobs}
    assert reference["alice_full"].result.points == reference["alice_full"].result.max_points > 0
    assert reference["gina_stubs"].result.points == 0
    killer = tmp_path / "killer_zip.zip"
    shutil.copy(class_dir / "carol_zip.zip", killer)
    marker = tmp_path / "killed.json"
    disturbed = _grade_on(cluster, [*jobs, replace(jobs[0], learner="killer_zip", path=str(killer), kind="zip")],
                          partial(grade_or_die, str(marker)))
    assert marker.exists(), "the worker grading liam was not killed"
    recorded = json.loads(marker.read_text())
    assert any("grader.engine.inside.zygote_main" in cmdline for _, _, cmdline in recorded), recorded
    seen = {(pid, start) for pid, start, _ in recorded}
    _assert_all_gone(seen)  # zygote and learner child of the killed worker
    for learner, result in reference.items():
        assert _comparable(disturbed[learner]) == _comparable(result), learner
    dead = disturbed["killer_zip"]
    assert dead.result.points == 0 and "died 2 times" in dead.reason, dead.reason
    assert len(cluster.run(os.getpid)) == 2  # the nanny restarted the workers


@pytest.fixture(scope="module")
def local_grades(class_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The class graded by the local pool (no Dask): the reference grades.csv."""
    out = tmp_path_factory.mktemp("local") / "out"
    local = subprocess.run([*GRADER.split(), "grade", str(class_dir), "-o", str(out),
                            "--workers", "2", *ARGS], capture_output=True, text=True, timeout=600)
    assert local.returncode == 0, local.stdout + local.stderr
    return out


def test_a_batch_on_the_cluster_gives_the_local_pools_grades_csv(
        cluster: Any, class_dir: Path, local_grades: Path, tmp_path: Path) -> None:
    """`grader grade --scheduler` on the module's cluster (its real scheduler, over TCP)."""
    shutil.copytree(local_grades, tmp_path / "local")
    address = cluster.scheduler.address
    assert address.startswith("tcp://")
    dask = subprocess.run([*GRADER.split(), "grade", str(class_dir), "-o", str(tmp_path / "dask"),
                           "--scheduler", address, *ARGS], capture_output=True, text=True, timeout=600)
    assert dask.returncode == 0, dask.stdout + dask.stderr
    grades = (tmp_path / "dask" / "grades.csv").read_bytes()
    assert grades == (tmp_path / "local" / "grades.csv").read_bytes()
    rows = [r for r in csv.DictReader(grades.decode("utf-8-sig").splitlines()) if r["learner"] != "Points Possible"]
    assert len(rows) == 4 and all(r["total"] for r in rows)
    for learner in ("alice_full", "carol_zip"):
        mine = json.loads((tmp_path / "dask" / learner / "result.json").read_text())
        assert mine["source"] == json.loads((tmp_path / "local" / learner / "result.json").read_text())["source"]
    again = subprocess.run([*GRADER.split(), "grade", str(class_dir), "-o", str(tmp_path / "dask"),
                            "--cluster", "local:2", *ARGS], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "0 to grade" in again.stderr, again.stderr
    assert (tmp_path / "dask" / "grades.csv").read_bytes() == grades


def _dask(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "dask", *args], env=env, start_new_session=True, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_a_real_dask_scheduler_and_two_dask_workers_give_the_same_grades(
        class_dir: Path, local_grades: Path, tmp_path: Path) -> None:
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
           "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    processes = [_dask("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                       "--no-dashboard", env=env)]
    try:
        processes += [_dask("worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
                            env=env) for _ in range(2)]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        done = subprocess.run([*GRADER.split(), "grade", str(class_dir), "-o", str(tmp_path / "out"),
                               "--scheduler", address, *ARGS], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (tmp_path / "out" / "grades.csv").read_bytes() == (local_grades / "grades.csv").read_bytes()
        started = set().union(*(descendants(p.pid) for p in processes))
        assert any("grader.engine.inside.zygote_main" in _cmdline(pid) for pid, _ in started)
        # A third worker whose hidden checks differ: refused before anything is graded.
        other = tmp_path / "other"
        for folder in ("grader", "solutions", "exercises"):
            shutil.copytree(PROJECT_ROOT / folder, other / folder,
                            ignore=shutil.ignore_patterns("__pycache__"))
        with (other / "grader" / "checks" / "hidden" / "test_ex03_activations.py").open("a") as stream:
            stream.write("\n# edited on one worker only\n")
        # Then a third worker without bubblewrap (a weaker sandbox than the one shown): refused too.
        bad_workers = [({**env, "PYTHONPATH": str(other)}, other, "do not have this grader"),
                       ({**env, "GRADER_SANDBOX_DISABLE": "bwrap"}, None, "weaker sandbox")]
        for worker_env, cwd, words in bad_workers:
            processes.append(_dask("worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                   "--no-dashboard", env=worker_env, cwd=cwd))
            with Client(address, timeout=60) as client:
                client.wait_for_workers(3, timeout=120)
            refused = subprocess.run([*GRADER.split(), "grade", str(class_dir), "-o", str(tmp_path / "o2"),
                                      "--scheduler", address, *ARGS], capture_output=True, text=True,
                                     timeout=600)
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert words in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
            assert not list((tmp_path / "o2").glob("*/result.json"))
            os.killpg(processes[-1].pid, signal.SIGTERM)
            processes.pop().wait(timeout=60)
            with Client(address, timeout=60) as client:
                deadline = time.monotonic() + 60
                while len(client.nthreads()) > 2 and time.monotonic() < deadline:
                    time.sleep(0.2)
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    _assert_all_gone(started)


def test_a_learner_past_the_backstop_gets_a_row_and_its_worker_is_restarted(
        cluster: Any, class_dir: Path) -> None:
    [liam] = [job for job in _jobs(class_dir) if job.learner.startswith("liam")]
    before = cluster.run(os.getpid)
    family = {pid: descendants(pid) | {(pid, _start(pid))} for pid in before.values()}
    results: list[LearnerResult] = []
    run_jobs_on(cluster, [liam], lambda job: 2.0, results.append)
    [result] = results
    assert "longer than 2 s" in result.reason and result.result.points == 0
    cluster.wait_for_workers(2, timeout=120)
    [stuck] = set(before.values()) - set(cluster.run(os.getpid).values())  # replaced by its nanny
    _assert_all_gone(family[stuck])  # the worker, its zygote and the learner's sandbox


def _graded(out: Path) -> int:
    try:
        with sqlite3.connect(out / JOURNAL_NAME, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM learners WHERE graded_count > 0").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_an_interrupted_client_keeps_what_finished_and_a_rerun_completes_the_class(
        cluster: Any, class_dir: Path, local_grades: Path, tmp_path: Path, signum: int) -> None:
    """Ctrl-C cancels the client's tasks (exit 130); a SIGKILLed client's tasks are dropped by
    the scheduler. Either way the journal keeps what finished and the rerun grades the rest."""
    out = tmp_path / "out"
    command = [*GRADER.split(), "grade", str(class_dir), "-o", str(out), "--scheduler",
               cluster.scheduler.address, *ARGS]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 300
    while _graded(out) < 1 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, "the batch ended before it could be interrupted"
    os.killpg(process.pid, signum)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == (130 if signum == signal.SIGINT else -signum), output
    kept = _graded(out)
    assert 1 <= kept < 4, output
    if signum == signal.SIGINT:
        rows = [r for r in csv.DictReader((out / "grades.csv").read_text("utf-8-sig").splitlines())
                if r["learner"] != "Points Possible"]
        assert sum("not graded yet" in r["notes"] for r in rows) == 4 - kept
    deadline = time.monotonic() + 60  # the interrupted batch's tasks are dropped by the scheduler
    while cluster.run_on_scheduler(_task_count) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert cluster.run_on_scheduler(_task_count) == 0
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"{4 - kept} to grade" in rerun.stderr
    assert (out / "grades.csv").read_bytes() == (local_grades / "grades.csv").read_bytes()


def _task_count(dask_scheduler: Any) -> int:
    """Tasks the scheduler still means to run (an earlier test's erred tasks may linger)."""
    return sum(t.state in ("processing", "queued", "waiting", "no-worker") for t in dask_scheduler.tasks.values())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_a_clear_error_before_anything_is_graded(
        class_dir: Path, tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    begin = time.monotonic()
    done = subprocess.run([*GRADER.split(), "grade", str(class_dir), "-o", str(tmp_path / "out"),
                           "--scheduler", address, *ARGS], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GRADER_DASK_CONNECT_TIMEOUT_S": "3"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"could not reach the Dask scheduler at {address}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list((tmp_path / "out").glob("*/result.json"))
    assert time.monotonic() - begin < 60


def test_cluster_options_are_checked(class_dir: Path, tmp_path: Path) -> None:
    for extra, words in ((["--cluster", "remote:2"], "local:N"),
                         (["--cluster", "local:2", "--scheduler", "tcp://h:1"], "not both"),
                         (["--scheduler", "myhost"], "tcp://HOST")):
        done = subprocess.run([*GRADER.split(), "grade", str(class_dir), "-o", str(tmp_path / "o"),
                               *extra, *ARGS], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and words in done.stderr, done.stderr


def test_the_local_pool_never_imports_dask() -> None:
    code = ("import sys, grader.cli.main, grader.cli.instructor, grader.instructor.batch, "
            "grader.instructor.cluster; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_closing_the_cluster_leaves_no_zygote_or_learner_process(cluster: Any) -> None:
    pids = cluster.run(os.getpid)
    processes = set().union(*(descendants(pid) for pid in pids.values()))
    for pid in pids.values():  # batches with the plugin's options reuse its zygote: one per worker
        direct = [p for p in map(int, filter(str.isdigit, os.listdir("/proc")))
                  if _ppid(p) == pid and "grader.engine.inside.zygote_main" in _cmdline(p)]
        assert len(direct) == 1, [_cmdline(p) for p in direct]
    workers = {(pid, _start(pid)) for pid in pids.values()}
    cluster.test_context.__exit__(None, None, None)
    _assert_all_gone(processes | workers)


def _start(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
