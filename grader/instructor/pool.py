"""Run grading jobs on N worker processes, with a wall-time backstop and a clean Ctrl-C.

A :class:`concurrent.futures.ProcessPoolExecutor` on the ``forkserver`` context
(never ``fork``: the parent holds threads). At most N jobs are in flight, so a
job starts the moment it is submitted and its age is its running time.

- A job older than the backstop gets a row with a reason; the pool's workers are
  then stopped (each kills its learner's child first) and replaced, and the other
  jobs that were in flight are handed to the new pool.
- A worker that dies on its own breaks the pool: the jobs in flight are retried
  on a new pool, and a job that breaks it :data:`MAX_TRIES` times gets a row.
- Workers ignore SIGINT: Ctrl-C reaches the parent, which stops the workers the
  same way and re-raises ``KeyboardInterrupt``; committed results are untouched.
- A worker whose parent disappears (SIGKILL) kills its learner's child and exits.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from grader.checking.job import GradeJob, LearnerResult, grade_learner, kill_active_children, ungraded
from grader.engine.zygote import close_zygotes

__all__ = ["run_jobs", "MAX_TRIES"]

MAX_TRIES = 2


def _stop_worker(signum: int = 0, frame: object = None) -> None:
    kill_active_children()
    close_zygotes()
    os._exit(128 + (signum or signal.SIGTERM))


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(0.5)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            _stop_worker()
        except PermissionError:
            pass


def _init_worker(parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    # A worker ends with os._exit, so atexit never runs there: stop its zygote and remove
    # the zygote's folder from multiprocessing's own exit hook instead.
    multiprocessing.util.Finalize(None, close_zygotes, exitpriority=10)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _new_pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["grader.checking.job", "grader.checking.runner"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_init_worker, initargs=(os.getpid(),))


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    """Stop every worker now: SIGTERM (each kills its learner's child), then SIGKILL."""
    processes = dict(getattr(pool, "_processes", None) or {})
    for process in processes.values():
        try:
            os.kill(process.pid, signal.SIGTERM)
        except (ProcessLookupError, TypeError):
            pass
    deadline = time.monotonic() + 5
    for process in processes.values():
        process.join(timeout=max(deadline - time.monotonic(), 0.1))
        if process.is_alive():
            process.kill()
            process.join(timeout=2)
    pool.shutdown(wait=False, cancel_futures=True)


def run_jobs(
    jobs: list[GradeJob],
    workers: int,
    backstop_s: Callable[[GradeJob], float],
    on_result: Callable[[LearnerResult], None],
    on_start: Callable[[GradeJob], None] | None = None,
    function: Callable[[GradeJob], LearnerResult] = grade_learner,
) -> None:
    """Run every job; call `on_result` in this process once per job, in completion order.

    `function` is the job (a module-level function, so workers can import it).
    """
    pending: deque[GradeJob] = deque(jobs)
    tries: dict[str, int] = {}
    suspects: set[str] = set()  # in flight when a worker died: rerun alone to find the culprit
    running: dict[Future[LearnerResult], tuple[GradeJob, float]] = {}
    pool = _new_pool(workers)
    try:
        while pending or running:
            while pending and len(running) < workers:
                if any(job.learner in suspects for job, _ in running.values()) or (
                        running and pending[0].learner in suspects):
                    break
                job = pending.popleft()
                if on_start is not None:
                    on_start(job)
                running[pool.submit(function, job)] = (job, time.time())
            done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
            in_flight, broken = len(running), False
            for future in done:
                job, started = running.pop(future)
                try:
                    on_result(future.result())
                    suspects.discard(job.learner)
                except BrokenProcessPool:
                    broken = True
                    running[future] = (job, started)
                except Exception as exc:  # noqa: BLE001 - e.g. a result that did not unpickle
                    on_result(ungraded(job, f"the grading process failed ({exc})", started))
            late = [(f, job, started) for f, (job, started) in running.items()
                    if not f.done() and time.time() - started > backstop_s(job)]
            if not broken and not late:
                continue
            for future, job, started in late:
                running.pop(future)
                on_result(ungraded(
                    job, f"grading took longer than {backstop_s(job):g} s and was stopped", started))
            # The pool is broken, or has a worker stuck on a late job: replace it and hand
            # the jobs still in flight to the new pool. After a break each of them is rerun
            # alone; a job that breaks the pool while alone is the culprit.
            _kill_pool(pool)
            survivors = [job for job, _ in running.values()]
            running.clear()
            for job in reversed(survivors):
                if broken:
                    tries[job.learner] = tries.get(job.learner, 0) + (in_flight == 1)
                    suspects.add(job.learner)
                if tries.get(job.learner, 0) >= MAX_TRIES:
                    suspects.discard(job.learner)
                    on_result(ungraded(
                        job, f"the grading process died {MAX_TRIES} times on this submission "
                             "(out of memory or a crash)"))
                else:
                    pending.appendleft(job)
            pool = _new_pool(workers)
    except BaseException:
        _kill_pool(pool)
        raise
    pool.shutdown(wait=True)
