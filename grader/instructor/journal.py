"""The batch journal: which learner was graded, from which content, and how many times.

A small sqlite3 database in WAL mode at ``OUT/.journal.sqlite``. Only the batch's
parent process writes it (one writer); anyone may read it while a batch runs.

A learner whose grading failed on the grader's side (``grader_error``) has its files
written and its row kept with no job key, so it is never done: the next run grades it.

A learner is *done* when their row carries the job key of the current run (a
sha256 of their submission, the checks, the grader and the options) and their
committed ``result.json`` exists. The result files are written first, then the
row, in one transaction, so a batch killed at any instant is resumed by grading
exactly the learners that are not done.

Schema::

    meta(key TEXT PRIMARY KEY, value TEXT)           -- e.g. the batch's hidden seed
    learners(learner TEXT PRIMARY KEY, job_key TEXT, content_hash TEXT,
             result_path TEXT, finished REAL, points REAL, max_points REAL,
             graded_count INTEGER,   -- committed gradings of this learner, ever
             attempts INTEGER)       -- jobs started for this learner, ever
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Journal", "JournalRow", "JOURNAL_NAME"]

JOURNAL_NAME = ".journal.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS learners (
    learner TEXT PRIMARY KEY,
    job_key TEXT,
    content_hash TEXT,
    result_path TEXT,
    finished REAL,
    points REAL,
    max_points REAL,
    graded_count INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class JournalRow:
    """What the journal knows about one learner."""

    learner: str
    job_key: str | None
    content_hash: str | None
    result_path: str | None
    finished: float | None
    points: float | None
    max_points: float | None
    graded_count: int
    attempts: int


class Journal:
    """Open (or create) the journal of the batch whose output folder is `out`."""

    def __init__(self, out: Path) -> None:
        self.path = out / JOURNAL_NAME
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta -----------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta(key, value) VALUES(?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    # -- learners -------------------------------------------------------------

    def row(self, learner: str) -> JournalRow | None:
        found = self._db.execute(
            "SELECT learner, job_key, content_hash, result_path, finished, points, max_points, "
            "graded_count, attempts FROM learners WHERE learner = ?", (learner,)).fetchone()
        return None if found is None else JournalRow(*found)

    def rows(self) -> list[JournalRow]:
        return [JournalRow(*r) for r in self._db.execute(
            "SELECT learner, job_key, content_hash, result_path, finished, points, max_points, "
            "graded_count, attempts FROM learners ORDER BY learner")]

    def is_done(self, learner: str, job_key: str, out: Path) -> bool:
        """True when `learner` was committed with this job key and the result file is there."""
        row = self.row(learner)
        return (row is not None and row.job_key == job_key and row.result_path is not None
                and (out / row.result_path).is_file())

    def started(self, learner: str) -> None:
        """Count an attempt (a job handed to a worker)."""
        self._db.execute(
            "INSERT INTO learners(learner, attempts) VALUES(?, 1) "
            "ON CONFLICT(learner) DO UPDATE SET attempts = attempts + 1", (learner,))

    def committed(self, learner: str, job_key: str, content_hash: str, result_path: str,
                  points: float, max_points: float) -> None:
        """Record a learner whose result files are already on disk (call after the rename)."""
        self._db.execute(
            "INSERT INTO learners(learner, job_key, content_hash, result_path, finished, points, "
            "max_points, graded_count) VALUES(?, ?, ?, ?, ?, ?, ?, 1) "
            "ON CONFLICT(learner) DO UPDATE SET job_key = excluded.job_key, "
            "content_hash = excluded.content_hash, result_path = excluded.result_path, "
            "finished = excluded.finished, points = excluded.points, "
            "max_points = excluded.max_points, graded_count = graded_count + 1",
            (learner, job_key, content_hash, result_path, time.time(), points, max_points))

    def grader_error(self, learner: str, content_hash: str, result_path: str) -> None:
        """Record a learner the grader failed on: files written, but not done (no job key)."""
        self._db.execute(
            "INSERT INTO learners(learner, job_key, content_hash, result_path, finished) "
            "VALUES(?, NULL, ?, ?, ?) ON CONFLICT(learner) DO UPDATE SET job_key = NULL, "
            "content_hash = excluded.content_hash, result_path = excluded.result_path, "
            "finished = excluded.finished",
            (learner, content_hash, result_path, time.time()))
