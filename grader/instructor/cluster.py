"""Grade a class on Dask distributed: ``grader grade ... --scheduler tcp://HOST:8786`` or ``--cluster local:N``.

The client's side. Dask is imported only here and in :mod:`grader.instructor.cluster_worker`,
and only when one of those options is given; the local pool stays the default.

:func:`run_on_cluster` keeps the contract of :func:`grader.instructor.pool.run_jobs`:
``on_start`` when a job is handed out, ``on_result`` once per job in this process, in
completion order. Only this process writes OUT and the journal, so resume and
incremental regrading work as on one machine.

- Before anything is graded: the scheduler must answer within :data:`CONNECT_TIMEOUT_S`,
  have a worker, and scheduler, workers and client must agree on package versions
  (``client.get_versions(check=True)``), the grader's version and the checks' fingerprint.
  Otherwise :class:`ClusterError`.
- Each learner's bytes travel with its task; the result comes back as plain data.
- At most one job per worker thread is in flight, so a job's age is its running time;
  one older than the backstop gets a row, and its worker is restarted (it holds the learner).
- A worker that dies mid-learner: the scheduler reruns the learner on a worker
  (``--cluster`` allows one failure; set ``distributed.scheduler.allowed-failures`` on a
  scheduler of your own). A learner that keeps killing workers gets a row with the reason.
- Ctrl-C: the futures in flight are cancelled and ``KeyboardInterrupt`` goes on up.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from grader.checking.job import GradeJob, LearnerResult

__all__ = ["ClusterTarget", "ClusterError", "parse_local", "open_client", "run_on_cluster",
           "CONNECT_TIMEOUT_S", "ALLOWED_FAILURES"]

CONNECT_TIMEOUT_S = float(os.environ.get("GRADER_DASK_CONNECT_TIMEOUT_S", "10"))
WORKERS_TIMEOUT_S = 60.0
ALLOWED_FAILURES = 1  # a learner whose worker died is rerun once; the second death gives a row


class ClusterError(Exception):
    """The cluster cannot grade this batch (unreachable, no workers, versions differ, connection lost)."""


@dataclass(frozen=True)
class ClusterTarget:
    """Where to grade: a running scheduler's address, or a LocalCluster of N workers."""

    scheduler: str | None = None
    local_workers: int | None = None

    def describe(self) -> str:
        return self.scheduler or f"a local Dask cluster of {self.local_workers} worker(s)"


def parse_local(value: str) -> int:
    """``local:N`` -> N (1..512)."""
    kind, _, count = value.partition(":")
    if kind != "local" or not count.isdigit() or not 1 <= int(count) <= 512:
        raise ValueError(f"expected local:N with N from 1 to 512, got {value!r}")
    return int(count)


def _dask_settings() -> dict[str, Any]:
    # Workers must not be daemons (the engine starts processes); one rerun per dead worker.
    os.environ["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
    return {"distributed.worker.daemon": False,
            "distributed.scheduler.allowed-failures": ALLOWED_FAILURES}


def _check(client: Any, exercise_ids: tuple[str, ...], address: str) -> None:
    from grader.instructor.cluster_worker import worker_identity

    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except TimeoutError:
        raise ClusterError(f"the Dask scheduler at {address} has no workers (waited "
                           f"{WORKERS_TIMEOUT_S:g} s); start some with `dask worker {address}`") from None
    try:
        client.get_versions(check=True, packages=["tensorflow", "keras"])
    except ValueError as exc:
        raise ClusterError(f"client, scheduler and workers have different package versions:\n{exc}") from None
    _check_defences(client)
    mine = worker_identity(exercise_ids)
    theirs = client.run(worker_identity, exercise_ids)
    wrong = [f"{worker}: grader {got['grader']}, checks {got['checks'][:12]}"
             for worker, got in sorted(theirs.items()) if got != mine]
    if wrong:
        raise ClusterError(
            f"these workers do not have this grader (version {mine['grader']}, checks "
            f"{mine['checks'][:12]}); install the same grader and checks on every worker:\n  "
            + "\n  ".join(wrong))


def _check_defences(client: Any) -> None:
    """Every worker must give learners at least the sandbox this machine would (the one shown)."""
    from grader.instructor.cluster_worker import active_defences

    mine = set(active_defences())
    weaker = {worker: sorted(mine - set(theirs))
              for worker, theirs in client.run(active_defences).items() if not mine <= set(theirs)}
    if weaker:
        raise ClusterError(
            "these workers would run learner code with a weaker sandbox than this machine's; install "
            "bubblewrap and run them as root (see docs/cluster.md):\n  "
            + "\n  ".join(f"{worker}: missing {', '.join(missing)}" for worker, missing in sorted(weaker.items())))


@contextmanager
def open_client(target: ClusterTarget, exercise_ids: tuple[str, ...],
                call_timeout_s: float | None = None, memory_mb: int | None = None) -> Iterator[Any]:
    """A checked Dask client whose workers each run a warm zygote; closed (and a local cluster
    stopped, zygotes with it) on the way out."""
    import dask
    from distributed import Client, LocalCluster

    from grader.instructor.cluster_worker import ZygotePlugin

    cluster, client = None, None
    address = target.scheduler or "a local cluster"
    try:
        with dask.config.set(_dask_settings()):
            if target.scheduler is None:
                cluster = LocalCluster(n_workers=target.local_workers or 1, threads_per_worker=1,
                                       processes=True, dashboard_address=None,
                                       silence_logs=logging.ERROR)
            try:
                client = Client(cluster or target.scheduler, timeout=CONNECT_TIMEOUT_S,
                                set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ClusterError(f"could not reach the Dask scheduler at {address} within "
                                   f"{CONNECT_TIMEOUT_S:g} s ({exc}); is `dask scheduler` running "
                                   "there, and is the address right?") from None
        _check(client, exercise_ids, address)
        client.register_plugin(ZygotePlugin(call_timeout_s, memory_mb))
        yield client
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _worker_of(client: Any, key: Any) -> str | None:
    try:
        processing = client.processing()
    except Exception:  # noqa: BLE001 - only used to free a stuck worker
        return None
    return next((w for w, keys in processing.items() if key in keys), None)


def _dead_reason(exc: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return (f"the grading worker died {ALLOWED_FAILURES + 1} times on this submission "
                "(out of memory or a crash)")
    return f"the grading worker failed ({type(exc).__name__}: {exc})"


def _collect(client: Any, running: dict[Any, tuple[GradeJob, float]], backstop_s: Callable[[GradeJob], float],
             on_result: Callable[[LearnerResult], None]) -> None:
    """Wait a little; hand over every finished job and every job past its backstop."""
    from distributed.client import _wait

    from grader.checking.job import ungraded
    from grader.instructor.cluster_worker import result_from_payload

    try:
        client.sync(_wait, list(running), timeout=0.5, return_when="FIRST_COMPLETED")
    except TimeoutError:
        pass
    for future in [f for f in running if f.done()]:
        job, started = running.pop(future)
        if future.status == "finished":
            on_result(result_from_payload(future.result()))
        elif future.status == "cancelled":
            raise ClusterError("the Dask scheduler lost this batch's work (was it restarted, or the "
                               "connection lost?); the results so far are kept: run the command again")
        else:
            on_result(ungraded(job, _dead_reason(future.exception()), started))
    for future, (job, started) in list(running.items()):
        if time.time() - started > backstop_s(job):
            running.pop(future)
            worker = _worker_of(client, future.key)
            future.cancel()
            on_result(ungraded(
                job, f"grading took longer than {backstop_s(job):g} s and was stopped", started))
            if worker is not None:
                try:
                    client.restart_workers([worker], timeout=60)
                except Exception:  # noqa: BLE001 - a worker without a nanny cannot be restarted
                    logging.getLogger(__name__).warning("could not restart the stuck worker %s", worker)


def run_jobs_on(client: Any, jobs: list[GradeJob], backstop_s: Callable[[GradeJob], float],
                on_result: Callable[[LearnerResult], None],
                on_start: Callable[[GradeJob], None] | None = None,
                function: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
    """Run every job on the client's cluster; `on_result` here once per job (see the module)."""
    from grader.instructor.cluster_worker import grade_payload, pack_job

    function = function or grade_payload
    pending: deque[GradeJob] = deque(jobs)
    running: dict[Any, tuple[GradeJob, float]] = {}
    try:
        while pending or running:
            slots = max(sum(client.nthreads().values()), 1)
            while pending and len(running) < slots:
                job = pending.popleft()
                if on_start is not None:
                    on_start(job)
                future = client.submit(function, pack_job(job), pure=False,
                                       key=f"grade-{job.learner}-{time.time_ns()}")
                running[future] = (job, time.time())
            _collect(client, running, backstop_s, on_result)
    except BaseException:
        if running:
            try:
                client.cancel(list(running), force=True)
            except Exception:  # noqa: BLE001 - the connection may be what failed
                pass
        raise


def run_on_cluster(target: ClusterTarget, jobs: list[GradeJob], workers: int,
                   backstop_s: Callable[[GradeJob], float], on_result: Callable[[LearnerResult], None],
                   on_start: Callable[[GradeJob], None] | None = None) -> None:
    """:func:`grader.instructor.pool.run_jobs` on Dask (`workers` is ignored: the cluster decides)."""
    if not jobs:
        return
    first = jobs[0]
    with open_client(target, first.exercises, first.call_timeout_s, first.memory_mb) as client:
        run_jobs_on(client, jobs, backstop_s, on_result, on_start)
