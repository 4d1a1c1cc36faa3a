"""The batch journal (instructor/journal.py) on its own: what makes a learner done."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from grader.instructor.journal import JOURNAL_NAME, Journal


def _result(out: Path, learner: str) -> str:
    (out / learner).mkdir(parents=True, exist_ok=True)
    (out / learner / "result.json").write_text("{}")
    return f"{learner}/result.json"


def test_a_committed_learner_is_done_only_with_the_same_key_and_its_file(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        assert not journal.is_done("ann", "key1", tmp_path)
        journal.started("ann")
        assert not journal.is_done("ann", "key1", tmp_path), "started is not done"
        journal.committed("ann", "key1", "hash1", _result(tmp_path, "ann"), 3.0, 4.0)
        assert journal.is_done("ann", "key1", tmp_path)
        assert not journal.is_done("ann", "key2", tmp_path), "new content, checks or options: grade again"
        (tmp_path / "ann" / "result.json").unlink()
        assert not journal.is_done("ann", "key1", tmp_path), "a lost result file: grade again"


def test_a_grader_error_keeps_the_learner_not_done(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        journal.committed("bo", "key1", "hash1", _result(tmp_path, "bo"), 4.0, 4.0)
        journal.grader_error("bo", "hash2", "bo/result.json")
        assert not journal.is_done("bo", "key1", tmp_path)
        row = journal.row("bo")
        assert row is not None and row.job_key is None and row.content_hash == "hash2"
        assert row.graded_count == 1, "a grader error is not a grading"


def test_counts_survive_reopening_and_meta_is_kept(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        journal.set_meta("seed", "7")
        journal.set_meta("seed", "8")
        for _ in range(3):
            journal.started("cy")
        journal.committed("cy", "k", "h", _result(tmp_path, "cy"), 1.0, 2.0)
        journal.committed("cy", "k2", "h", _result(tmp_path, "cy"), 2.0, 2.0)
    with Journal(tmp_path) as journal:
        assert journal.get_meta("seed") == "8" and journal.get_meta("nothing") is None
        [row] = journal.rows()
        assert (row.learner, row.attempts, row.graded_count, row.points, row.job_key) == ("cy", 3, 2, 2.0, "k2")


def test_others_can_read_the_journal_while_it_is_open(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        journal.committed("di", "k", "h", _result(tmp_path, "di"), 1.0, 1.0)
        with sqlite3.connect(tmp_path / JOURNAL_NAME, timeout=5) as reader:
            assert reader.execute("SELECT learner, graded_count FROM learners").fetchall() == [("di", 1)]
