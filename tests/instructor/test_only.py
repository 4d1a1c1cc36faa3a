"""`grader grade --only LEARNER`: one learner regraded, every other row left byte for byte.

Through the real installed command, on a small class graded for ex02 only (one child each).
"""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from helpers import solution_source, stub_source

from grader.course.exercises import find_exercise
from grader.instructor.intake import LearnerEntry
from grader.instructor.journal import JOURNAL_NAME
from grader.instructor.selection import UnknownLearner, resolve_only, split_names

GRADER = shutil.which("grader") or f"{sys.executable} -m grader.cli.main"
ARGS = ["--workers", "2", "--exercises", "ex02", "--seed", "7", "--timeout", "5"]
EX02 = find_exercise("ex02").filename


def _grade(subs: Path, out: Path, *extra: str, args: list[str] = ARGS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADER.split(), "grade", str(subs), "-o", str(out), *args, *extra],
                          capture_output=True, text=True, timeout=900)


def _rows(out: Path) -> dict[str, str]:
    """learner id -> the raw line of grades.csv (bytes as written, BOM stripped)."""
    text = (out / "grades.csv").read_bytes().decode("utf-8-sig")
    lines = text.splitlines(keepends=True)
    ids = [row[0] if row else "" for row in csv.reader(io.StringIO(text))]
    return dict(zip(ids, lines, strict=True))


def _graded_count(out: Path, learner: str) -> int:
    with sqlite3.connect(out / JOURNAL_NAME) as db:
        return db.execute("SELECT graded_count FROM learners WHERE learner = ?", (learner,)).fetchone()[0]


def _write(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / EX02).write_text(text)


def test_only_regrades_one_learner_and_keeps_every_other_row(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    _write(subs / "alice", solution_source("ex02"))
    _write(subs / "Bob Late", stub_source("ex02"))  # id bob_late; hands in late
    _write(subs / "carol", stub_source("ex02"))
    first = _grade(subs, out)
    assert first.returncode == 0, first.stderr
    before = _rows(out)
    assert set(before) >= {"alice", "Bob_Late", "carol"}, before
    kept_files = {p: p.read_bytes() for name in ("alice", "carol")
                  for p in (out / name).iterdir() if p.is_file()}
    # Bob's late work arrives (a correct solution); carol also edits hers, but is not asked for.
    _write(subs / "Bob Late", solution_source("ex02"))
    _write(subs / "carol", solution_source("ex02"))
    again = _grade(subs, out, "--only", "Bob Late")  # by original name
    assert again.returncode == 0, again.stderr
    assert "1 graded" in again.stdout, again.stdout
    after = _rows(out)
    # A correct late submission gets its points: Bob's row changed, to the full score.
    assert after["Bob_Late"] != before["Bob_Late"]
    assert after["Bob_Late"].split(",")[2] == after["alice"].split(",")[2] != before["carol"].split(",")[2]
    # Nobody else moved, not even carol, whose changed work was not asked for.
    for learner in before:
        if learner != "Bob_Late":
            assert after[learner] == before[learner], learner
    assert {p: p.read_bytes() for p in kept_files} == kept_files
    assert _graded_count(out, "carol") == 1 and _graded_count(out, "Bob_Late") == 2
    # --only forces: an unchanged learner is graded again when named (by id, comma list).
    forced = _grade(subs, out, "--only", "alice,alice")
    assert forced.returncode == 0 and "1 graded" in forced.stdout, forced.stdout + forced.stderr
    assert _graded_count(out, "alice") == 2 and _rows(out) == after


def test_only_unknown_learner_or_other_seed_changes_nothing(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    _write(subs / "alice", solution_source("ex02"))
    _write(subs / "bob", stub_source("ex02"))
    assert _grade(subs, out).returncode == 0
    csv_before = (out / "grades.csv").read_bytes()
    typo = _grade(subs, out, "--only", "alcie")
    assert typo.returncode == 2, typo.stdout + typo.stderr
    assert "no learner 'alcie' in this class" in typo.stderr and "did you mean: alice" in typo.stderr
    assert "Nothing was graded" in typo.stderr
    # A path or a glob is not a learner: no grading of anything outside the class.
    sneaky = _grade(subs, out, "--only", "../alice", "--only", "*")
    assert sneaky.returncode == 2 and "'../alice'" in sneaky.stderr and "'*'" in sneaky.stderr
    # Regrading one learner under another hidden seed would make rows incomparable.
    args = [a if a != "7" else "8" for a in ARGS]
    seed = _grade(subs, out, "--only", "bob", args=args)
    assert seed.returncode == 2 and "hidden seed (7)" in seed.stderr, seed.stderr
    both = _grade(subs, out, "--only", "bob", "--force")
    assert both.returncode == 2 and "not both" in both.stderr
    assert (out / "grades.csv").read_bytes() == csv_before
    assert _graded_count(out, "bob") == 1


def test_resolve_only_by_id_name_and_close_matches():
    entries = [LearnerEntry("jose_muller", Path("x"), "folder", name="José Müller"),
               LearnerEntry("ann", Path("y"), "folder", name="ann")]
    assert split_names(["ann, jose_muller", "", "ann"]) == ("ann", "jose_muller")
    assert resolve_only(("José Müller",), entries) == {"jose_muller"}
    assert resolve_only(("ann", "jose_muller"), entries) == {"ann", "jose_muller"}
    try:
        resolve_only(("Jose Muller\x1b[31m",), entries)
    except UnknownLearner as exc:
        message = str(exc)
    else:
        raise AssertionError("an unknown learner was accepted")
    assert "\x1b" not in message and "did you mean" in message and "jose_muller" in message
