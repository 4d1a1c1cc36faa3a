"""Grade a whole class: ``grader grade SUBMISSIONS -o OUT``.

The steps, each in its own module:

1. :mod:`grader.instructor.intake` finds the learners (folders, zips, junk) and hashes their work;
2. the :mod:`grader.instructor.journal` says who is already done with the same submission, checks,
   grader and options (so a rerun costs nothing, and a killed batch resumes);
3. :mod:`grader.instructor.pool` runs :func:`grader.checking.job.grade_learner` for the others on N workers;
4. each result is committed by :mod:`grader.instructor.gradebook` (files first, then the journal);
5. ``grades.csv`` and the summary are rebuilt from the committed results at the end of
   every run, also after Ctrl-C.

The hidden seed is the same for the whole batch: ``--seed``, else ``$GRADER_SEED``, else
the one stored in the journal by an earlier run on this OUT, else a fresh random one.
It is kept in the journal and written, for the record, only to the instructor's class files
(``grades.csv``, ``grades.meta.json``, ``summary.json``, ``report.html``), never to a learner's.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from grader import __version__
from grader.checking.inert import terminal_text
from grader.checking.job import GradeJob, LearnerResult, default_budget, grade_learner
from grader.checking.outcomes import Grading
from grader.checking.runner import hidden_seed
from grader.course.exercises import EXERCISES, PROJECT_ROOT, find_exercise
from grader.engine.policy import Policy
from grader.instructor.gradebook import commit_learner, read_committed, write_learner_views
from grader.instructor.intake import LearnerEntry, content_hash, discover, write_roster
from grader.instructor.journal import Journal
from grader.instructor.pool import run_jobs
from grader.instructor.selection import UnknownLearner, check_seed, resolve_only

__all__ = ["BatchOptions", "BatchReport", "BatchBusy", "MissingData", "require_data", "grade_class", "grade_learner",
           "checks_fingerprint", "defences", "default_budget", "WORK_DIR"]

WORK_DIR = ".work"
STAGING_DIR = ".intake"  # flat LMS downloads, grouped per learner for the length of a batch
BACKSTOP_SLACK_S = 300.0
# The folders of `grader/` whose code can change a grade; the rest (cli/, instructor/)
# only orchestrates and presents, so changing it does not force a regrade.
GRADING_FOLDERS = ("course", "engine", "checking", "checks")


class BatchBusy(Exception):
    """Another batch is writing to the same OUT folder."""


class MissingData(Exception):
    """A selected exercise needs data (MNIST) that this machine does not have: grade nothing."""


DATA_EXERCISES = ("ex08",)  # their checks read MNIST in the trusted parent


def require_data(exercise_ids: tuple[str, ...]) -> None:
    """Stop before grading when a selected exercise's data is missing, with `grader check`'s words.

    Without it every learner would lose the data-dependent points of a perfect ex08.
    """
    if not any(e in DATA_EXERCISES for e in exercise_ids):
        return
    from grader.course.mnist import DatasetError, load_mnist

    try:
        for split in ("train", "test"):
            load_mnist(split)
    except DatasetError as exc:
        raise MissingData(f"this check needs the MNIST data, which is not available here.\n{exc}\n"
                          "Nothing was graded; get the data, or leave ex08 out (--exercises)."
                          ) from None


@dataclass(frozen=True)
class BatchOptions:
    """What `grader grade` was asked to do."""

    submissions: Path
    out: Path
    workers: int | None = None
    exercises: tuple[str, ...] = ()  # ids; empty: every exercise
    call_timeout_s: float | None = None
    seed: int | None = None
    force: bool = False
    reveal_hidden: bool = False
    budget_s: float | None = None  # wall time per learner; default from the exercises
    memory_mb: int | None = None  # memory per learner's child; default: the sandbox's
    scheduler: str | None = None  # grade on this Dask scheduler (tcp://HOST:PORT)
    cluster_workers: int | None = None  # grade on a local Dask cluster of N workers
    only: tuple[str, ...] = ()  # regrade just these learners (ids or original names), forced


@dataclass(frozen=True)
class BatchReport:
    """How a batch went."""

    learners: int
    graded: int
    reused: int
    problems: int
    interrupted: bool
    seconds: float
    seed_source: str
    mean: float
    max_points: float


def defences(policy: Policy) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(active, missing) defences of the sandbox that learner code will run under."""
    from grader.engine.launch import describe_defences

    return describe_defences(policy)


def sandbox_gaps(policy: Policy) -> tuple[tuple[str, str], ...]:
    """Pre-flight: (missing defence, how to get it) for each one that untrusted work needs."""
    from grader.engine.launch import missing_protections

    return missing_protections(policy)


def checks_fingerprint(exercise_ids: tuple[str, ...]) -> str:
    """sha256 of what decides a grade besides the submission: checks, references, engine."""
    from grader.checking.runner import CHECKS_DIR, check_files

    package = PROJECT_ROOT / "grader"
    selected = {p for e in exercise_ids for p in check_files(find_exercise(e), hidden=True)}
    files = [PROJECT_ROOT / "solutions" / find_exercise(e).filename for e in exercise_ids]
    candidates = [package / "__init__.py"] + [p for f in GRADING_FOLDERS for p in (package / f).rglob("*")]
    for path in candidates:
        if not path.is_file() or "__pycache__" in path.parts or path.suffix not in (".py", ".json", ".ini"):
            continue
        if path.parent.parent == CHECKS_DIR and path.name.startswith(("test_ex", "expected_ex")) \
                and path not in selected and path.stem.split("_")[1] not in exercise_ids:
            continue  # another exercise's checks or fixtures
        files.append(path)
    digest = hashlib.sha256(f"grader {__version__}\0".encode())
    for path in sorted(set(files)):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def _job_key(content: str, fingerprint: str, options: BatchOptions, seed: int,
             exercise_ids: tuple[str, ...], budget: float) -> str:
    data = {"content": content, "checks": fingerprint, "version": __version__, "seed": seed,
            "exercises": list(exercise_ids), "timeout": options.call_timeout_s, "budget": budget,
            "memory": options.memory_mb}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _lock(out: Path) -> int:
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise BatchBusy(f"another `grader grade` is writing to {out}") from None
    return fd


def _progress(console: Console) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TextColumn("elapsed"), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=console,
                    disable=not console.is_terminal, transient=False)


def grade_class(options: BatchOptions, console: Console | None = None) -> BatchReport:
    """Grade every learner under `options.submissions` into `options.out`; resumable."""
    console = console or Console(stderr=True, highlight=False, soft_wrap=True)
    begin = time.monotonic()
    out = options.out
    exercise_ids = tuple(find_exercise(e).id for e in options.exercises) or tuple(
        e.id for e in EXERCISES)
    require_data(exercise_ids)
    out.mkdir(parents=True, exist_ok=True)
    lock = _lock(out)
    journal = Journal(out)
    try:
        seed, seed_source = hidden_seed(options.seed, journal.get_meta("seed"))
        if options.only:
            check_seed(seed, journal.get_meta("seed"))
        journal.set_meta("seed", str(seed))
        budget = options.budget_s or default_budget(len(exercise_ids))
        fingerprint = checks_fingerprint(exercise_ids)
        entries = discover(options.submissions, out / STAGING_DIR)
        try:
            only = resolve_only(options.only, entries) if options.only else None
        except UnknownLearner:
            shutil.rmtree(out / STAGING_DIR, ignore_errors=True)
            raise
        write_roster(out, entries)
        hashes = {e.learner: content_hash(e) for e in entries}
        keys = {e.learner: _job_key(hashes[e.learner], fingerprint, options, seed, exercise_ids,
                                    budget) for e in entries}
        todo = [e for e in entries if (e.learner in only if only is not None else options.force
                                       or not journal.is_done(e.learner, keys[e.learner], out))]
        shutil.rmtree(out / WORK_DIR, ignore_errors=True)
        jobs = [GradeJob(e.learner, str(e.path.resolve()), e.kind,
                         str((out / WORK_DIR / e.learner).resolve()), exercise_ids, seed, budget,
                         options.call_timeout_s, options.memory_mb, e.reason, hashes[e.learner])
                for e in todo]
        workers = max(1, min(options.workers or os.cpu_count() or 1, len(jobs) or 1))
        console.print(f"{len(entries)} learners in {options.submissions}: {len(jobs)} to grade, "
                      f"{len(entries) - len(jobs)} unchanged since the last run; {_where(options, workers)}; "
                      f"exercises {' '.join(exercise_ids)}; hidden seed: {seed_source}")
        graded, interrupted = 0, True
        try:
            graded, interrupted = _run(jobs, workers, journal, keys, options, console)
        finally:
            kept = frozenset(e.learner for e in entries) - only if only is not None else frozenset()
            summary = _rebuild(out, entries, exercise_ids, journal, keys, options.reveal_hidden, kept)
            shutil.rmtree(out / WORK_DIR, ignore_errors=True)
            shutil.rmtree(out / STAGING_DIR, ignore_errors=True)
    finally:
        journal.close()
        os.close(lock)
    return BatchReport(
        learners=len(entries), graded=graded, reused=len(entries) - len(jobs),
        problems=len(summary["problems"]), interrupted=interrupted,
        seconds=round(time.monotonic() - begin, 1), seed_source=seed_source,
        mean=summary["scores"]["mean"], max_points=summary["max_points"])


def _run(jobs: list[GradeJob], workers: int, journal: Journal,
         keys: dict[str, str], options: BatchOptions, console: Console) -> tuple[int, bool]:
    graded = 0
    with _progress(console) as progress:
        task = progress.add_task("grading", total=len(jobs))

        def finished(result: LearnerResult) -> None:
            nonlocal graded
            relative = commit_learner(options.out, result, options.reveal_hidden)
            if result.grading is Grading.GRADER_ERROR:  # no score: graded again on the next run
                journal.grader_error(result.learner, result.content_hash, relative)
            else:
                journal.committed(result.learner, keys[result.learner], result.content_hash, relative,
                                  result.result.points, result.result.max_points)
            graded += 1
            progress.advance(task)
            if progress.disable:
                reason = f"  ({result.reason[:80]})" if result.reason else ""
                console.print(terminal_text(f"[{graded}/{len(jobs)}] {result.learner}: "  # not markup
                                            f"{result.result.points:g}/{result.result.max_points:g} "
                                            f"in {result.duration_s:.1f} s{reason}"))

        try:
            if jobs:
                _runner(options)(jobs, workers, lambda job: job.budget_s + BACKSTOP_SLACK_S, finished,
                                 lambda job: journal.started(job.learner))
        except KeyboardInterrupt:
            console.print(f"[bold yellow]interrupted[/]: {graded} results committed in this run are "
                          "kept; run the same command again to grade the rest")
            return graded, True
    return graded, False


def _where(options: BatchOptions, workers: int) -> str:
    if options.scheduler is not None:
        return f"on the Dask scheduler {options.scheduler}"
    if options.cluster_workers is not None:
        return f"on a local Dask cluster of {options.cluster_workers} worker(s)"
    return f"{workers} worker(s)"


def _runner(options: BatchOptions) -> Callable[..., None]:
    """The local pool, or Dask when asked for (imported only then)."""
    if options.scheduler is None and options.cluster_workers is None:
        return run_jobs
    from grader.instructor.cluster import ClusterTarget, run_on_cluster

    return partial(run_on_cluster, ClusterTarget(options.scheduler, options.cluster_workers))


def _committed(journal: Journal, learner: str, out: Path) -> bool:
    row = journal.row(learner)
    return (row is not None and row.job_key is not None and row.result_path is not None
            and (out / row.result_path).is_file())


def _rebuild(out: Path, entries: list[LearnerEntry], exercise_ids: tuple[str, ...],
             journal: Journal, keys: dict[str, str], reveal_hidden: bool,
             kept: frozenset[str] = frozenset()) -> dict[str, Any]:
    """grades.csv and the summary from what is committed for the current entries.

    `kept` (learners left alone by ``--only``) keep their committed result as it is, even when
    the checks or options changed since it was graded.
    """
    from grader.instructor.summary import write_summary

    rerender = journal.get_meta("reveal_hidden") not in (None, str(reveal_hidden))
    rows: list[tuple[str, LearnerResult | None, str]] = []
    results: list[LearnerResult] = []
    for entry in entries:
        for stale in (out / entry.learner).glob(".*.tmp"):  # from a batch killed mid-write
            stale.unlink(missing_ok=True)
        done = journal.is_done(entry.learner, keys.get(entry.learner, ""), out) or (
            entry.learner in kept and _committed(journal, entry.learner, out))
        result = read_committed(out, entry.learner)
        if result is not None and result.grading is Grading.GRADER_ERROR:
            rows.append((entry.learner, None, result.reason))
            continue
        if not done or result is None:
            rows.append((entry.learner, None, "not graded yet: run the batch again to finish it"))
            continue
        if rerender:
            write_learner_views(out, result, reveal_hidden)
        rows.append((entry.learner, result, ""))
        results.append(result)
    journal.set_meta("reveal_hidden", str(reveal_hidden))
    from grader.instructor.outputs import write_class_outputs
    from grader.instructor.similarity import class_similarity, write_similarity

    write_similarity(out, class_similarity([(e.learner, e.path, e.kind) for e in entries],
                                           list(exercise_ids), out / WORK_DIR))

    summary = write_summary(out, len(entries), results, list(exercise_ids))
    # grades.csv (with the original names), grades.meta.json, report.html
    write_class_outputs(out, list(exercise_ids), rows, journal.get_meta("seed"))
    return summary
