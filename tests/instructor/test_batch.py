"""`grader grade`: a whole class through the real installed command, real zips, real signals.

The class (24 entries) mixes full solutions, stubs and typical mistakes as .py and
.ipynb, in folders, nested folders and zips, and broken entries. Only ex02 and ex03 are
graded, so each learner costs one child start. The same class is graded twice: once
straight through (the reference), once interrupted by Ctrl-C and by SIGKILL and resumed;
both must give the same grades.csv.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from helpers import alive, descendants, solution_source, solution_variant, stub_source
from gradescope_schema import assert_gradescope_results

from grader.checking.inert import markdown_inline
from grader.checking.job import GradeJob, LearnerResult, grade_learner
from grader.checking.outcomes import RunResult
from grader.course.exercises import PROJECT_ROOT, find_exercise
from grader.instructor.batch import checks_fingerprint
from grader.instructor.gradebook import spreadsheet_safe, write_grades_csv
from grader.instructor.intake import UnsafeSubmission, discover, extract_zip, sanitise_learner_id
from grader.instructor.journal import JOURNAL_NAME, Journal
from grader.instructor.pool import run_jobs

GRADER = shutil.which("grader") or f"{sys.executable} -m grader.cli.main"
ARGS = ["--workers", "2", "--exercises", "ex02,ex03", "--seed", "7", "--timeout", "5"]
FULL, ZERO, PART = "full", "zero", "partial"


# ---------------------------------------------------------------- the class


def _notebook(source: str) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    return nbformat.writes(notebook)


def _files(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def _zip(path: Path, files: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)


def build_class(root: Path) -> dict[str, tuple[str, str, str]]:
    """Write the class into `root`; return learner id -> (ex02, ex03, words in notes)."""
    root.mkdir(parents=True)
    e2, e3 = find_exercise("ex02").filename, find_exercise("ex03").filename
    s2, s3 = solution_source("ex02"), solution_source("ex03")
    nb2, nb3 = e2.replace(".py", ".ipynb"), e3.replace(".py", ".ipynb")
    folders = {
        "alice_full": {e2: s2, e3: s3},
        "bob_nested": {f"my work/{e2}": s2, f"my work/{e3}": s3},
        "erin_notebooks": {nb2: _notebook(s2), nb3: _notebook(s3)},
        "gina_stubs": {e2: stub_source("ex02"), e3: stub_source("ex03")},
        "hank_no_bias": {e2: solution_variant("ex02", "keepdims=True) + b", "keepdims=True)"), e3: s3},
        "ivy_softmax_axis0": {e2: s2, e3: solution_variant("ex03", "exponentials, axis=-1", "exponentials, axis=0")},
        "jack_syntax_error": {e2: s2, e3: s3.replace("def relu(", "def relu(:", 1)},
        "kate_only_ex02": {e2: s2},
        "liam_endless_loop": {e2: s2, e3: solution_variant("ex03", "    return tf.maximum(x, tf.zeros_like(x))",
                                                    "    while True:\n        pass")},
        "mia_crash": {e2: s2, e3: solution_variant("ex03", "    return 1.0 / (1.0 + tf.exp(-x))",
                                           "    import os\n    os._exit(3)")},
        "nina_tanh_textbook": {e2: s2, e3: solution_variant(
            "ex03", "    decay = tf.exp(-2.0 * tf.abs(x))  # in (0, 1]: never overflows\n"
                    "    return tf.sign(x) * (1.0 - decay) / (1.0 + decay)",
            "    return (tf.exp(x) - tf.exp(-x)) / (tf.exp(x) + tf.exp(-x))")},
        "oscar_relu_abs": {e2: s2, e3: solution_variant("ex03", "tf.maximum(x, tf.zeros_like(x))", "tf.abs(x)")},
        "-dash": {e2: s2, e3: s3},
        "José Ñ": {e2: s2, e3: s3},
    }
    for name, files in folders.items():
        (root / name).mkdir()
        _files(root / name, files)
    (root / "empty_folder").mkdir()
    _zip(root / "carol_zip.zip", {e2: s2, e3: s3})
    _zip(root / "dan_zip_nested.zip", {f"submission/{e2}": s2, f"submission/{e3}": s3})
    _zip(root / "frank_notebook_zip.zip", {f"hw/{nb2}": _notebook(s2), f"hw/{nb3}": _notebook(s3)})
    _zip(root / "evil_dotdot.zip", {e2: s2, "../evil.py": "print('escaped')"})
    with zipfile.ZipFile(root / "evil_symlink.zip", "w") as archive:
        link = zipfile.ZipInfo("ex03_activations.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    (root / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip" * 20)
    (root / "readme.txt").write_text("not a submission")
    _zip(root / "too_many_files.zip", {f"f{i}.txt": "x" for i in range(201)})
    return {
        "alice_full": (FULL, FULL, ""), "bob_nested": (FULL, FULL, ""), "carol_zip": (FULL, FULL, ""),
        "dan_zip_nested": (FULL, FULL, ""), "erin_notebooks": (FULL, FULL, ""),
        "frank_notebook_zip": (FULL, FULL, ""), "gina_stubs": (ZERO, ZERO, ""),
        "hank_no_bias": (PART, FULL, ""), "ivy_softmax_axis0": (FULL, PART, ""),
        "jack_syntax_error": (FULL, ZERO, "ex03 error"), "kate_only_ex02": (FULL, ZERO, ""),
        "liam_endless_loop": (FULL, PART, "ex03 timed out"), "mia_crash": (FULL, "<full", "ex03 error"),
        "nina_tanh_textbook": (FULL, PART, ""), "oscar_relu_abs": (FULL, PART, ""),
        "_dash": (FULL, FULL, ""), "José_Ñ": (FULL, FULL, ""),
        "empty_folder": (ZERO, ZERO, "no exercise files"),
        "evil_dotdot": (ZERO, ZERO, "leaves its folder"), "evil_symlink": (ZERO, ZERO, "link"),
        "corrupt": (ZERO, ZERO, "could not be read"), "readme.txt": (ZERO, ZERO, "not a folder or a .zip"),
        "too_many_files": (ZERO, ZERO, "entries"),
    }


# ---------------------------------------------------------------- running the command


def _assert_all_gone(processes: set[tuple[int, str]]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(map(alive, processes)):
        time.sleep(0.2)
    left = [p for p in processes if alive(p)]
    assert not left, "grader processes left behind: " + ", ".join(
        Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:120] for pid, _ in left)


def _grade(subs: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADER.split(), "grade", str(subs), "-o", str(out), *ARGS, *extra],
                          capture_output=True, text=True, timeout=900)


def _finished(out: Path) -> int:
    try:
        with sqlite3.connect(out / JOURNAL_NAME, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM learners WHERE graded_count > 0").fetchone()[0]
    except sqlite3.Error:
        return 0


def _interrupt_when(subs: Path, out: Path, finished: int, signum: int) -> tuple[int, set, str]:
    """Start a batch, send `signum` to its process group once `finished` learners are done."""
    process = subprocess.Popen([*GRADER.split(), "grade", str(subs), "-o", str(out), *ARGS],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    seen: set[tuple[int, str]] = set()
    deadline = time.monotonic() + 600
    while _finished(out) < finished and process.poll() is None and time.monotonic() < deadline:
        seen |= descendants(process.pid)
        time.sleep(0.1)
    assert process.poll() is None, "the batch ended before it could be interrupted"
    seen |= descendants(process.pid)
    assert any("grader" in Path(f"/proc/{pid}/cmdline").read_text() for pid, _ in seen if alive((pid, _)))
    os.killpg(process.pid, signum)
    output, _ = process.communicate(timeout=120)
    return process.returncode, seen, output


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8-sig") as stream:
        return {row["learner"]: row for row in csv.DictReader(stream) if row["learner"] != "Points Possible"}


def _counters(out: Path) -> dict[str, tuple[int, int]]:
    with Journal(out) as journal:
        return {r.learner: (r.graded_count, r.attempts) for r in journal.rows()}


# ---------------------------------------------------------------- the whole class

def _same_engine_as(reference: Path) -> None:
    """The re-run tests assume nothing was edited in between (else a regrade would be right)."""
    assert checks_fingerprint(("ex02", "ex03")) == (reference / "fingerprint").read_text(), (
        "the engine or the checks were edited while these tests ran; run them again")


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, float]:
    root = tmp_path_factory.mktemp("class")
    expected = build_class(root / "submissions")
    (root / "out").mkdir()
    (root / "out" / "fingerprint").write_text(checks_fingerprint(("ex02", "ex03")))
    start = time.monotonic()
    result = _grade(root / "submissions", root / "out")
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "submissions", root / "out", expected, seconds


def test_every_learner_gets_the_right_row(graded_class):
    subs, out, expected, seconds = graded_class
    text = (out / "grades.csv").read_text("utf-8-sig")
    assert text.splitlines()[0] == "learner,name,ex02,ex03,total,max,notes,grader_version,seed"
    rows = _rows(out)
    assert list(rows) == sorted(rows, key=lambda r: (r.casefold(), r)) and set(rows) == set(expected)
    full = {e: float(rows["alice_full"][e]) for e in ("ex02", "ex03")}
    assert full["ex02"] > 0 and full["ex03"] > 0
    for learner, (ex02, ex03, words) in expected.items():
        row = rows[learner]
        for exercise, want in (("ex02", ex02), ("ex03", ex03)):
            got = float(row[exercise])
            if want == FULL:
                assert got == full[exercise], (learner, exercise, row)
            elif want == ZERO:
                assert got == 0, (learner, exercise, row)
            elif want == PART:
                assert 0 < got < full[exercise], (learner, exercise, row)
            else:
                assert got < full[exercise], (learner, exercise, row)
        assert float(row["total"]) == float(row["ex02"]) + float(row["ex03"])
        assert float(row["max"]) == full["ex02"] + full["ex03"]
        assert words.lower() in row["notes"].lower(), (learner, row["notes"])
        if not words:
            assert row["notes"] == "", (learner, row["notes"])
    assert not any(p.name == "evil.py" for p in subs.parent.rglob("*")), "a zip escaped its folder"
    assert not (out / ".work").exists()
    print(f"\n{len(rows)} learners graded in {seconds:.1f} s ({seconds / len(rows):.2f} s per entry)")


def test_each_learner_gets_result_feedback_and_gradescope_files(graded_class):
    _, out, expected, _ = graded_class
    for learner in expected:
        folder = out / learner
        result = json.loads((folder / "result.json").read_text("utf-8"))
        assert result["learner"] == learner and result["grader_version"]
        assert result["timings"]["duration_s"] >= 0 and result["timings"]["started"]
        assert [e["id"] for e in result["exercises"]] == ["ex02", "ex03"]
        gradescope = json.loads((folder / "results.json").read_text("utf-8"))
        assert_gradescope_results(gradescope)
        assert gradescope["score"] == result["points"]
        for test in gradescope["tests"]:
            if "hidden" in test["name"]:
                assert test["visibility"] == "after_published" and test["output"] == ""
        feedback = (folder / "feedback.md").read_text("utf-8")
        assert feedback.startswith(f"# Feedback for {markdown_inline(learner)}")
        for text in (json.dumps(result), json.dumps(gradescope), feedback):
            assert "seed" not in text.lower()
    hank = (out / "hank_no_bias" / "feedback.md").read_text("utf-8")
    assert "bias" in hank and "hidden check" in hank
    assert "Details of hidden checks are not shown" in hank
    summary = json.loads((out / "summary.json").read_text())
    assert summary["learners"] == len(expected) and summary["graded"] == len(expected)
    assert {e["id"] for e in summary["exercises"]} == {"ex02", "ex03"}
    assert summary["checks"] and all(0 <= c["pass_rate"] <= 1 for c in summary["checks"])
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_rerun_on_unchanged_submissions_grades_nobody(graded_class):
    subs, out, expected, _ = graded_class
    _same_engine_as(out)
    before = _counters(out)
    start = time.monotonic()
    result = _grade(subs, out)
    assert result.returncode == 0, result.stderr
    assert f"0 graded, {len(expected)} unchanged" in result.stdout
    assert time.monotonic() - start < 30
    assert _counters(out) == before  # no job was even started
    assert all(graded == 1 for graded, _ in before.values())


def test_ctrl_c_and_sigkill_then_resume_give_the_same_gradebook(graded_class, tmp_path):
    subs, reference, expected, _ = graded_class
    _same_engine_as(reference)
    out = tmp_path / "out"
    code, seen, output = _interrupt_when(subs, out, 3, signal.SIGINT)
    assert code == 130, output
    _assert_all_gone(seen)
    rows = _rows(out)
    assert set(rows) == set(expected)  # the gradebook is rebuilt after Ctrl-C
    done = [r for r in rows.values() if "not graded yet" not in r["notes"]]
    assert 3 <= len(done) < len(expected)
    for row in done:
        assert json.loads((out / row["learner"] / "result.json").read_text())["learner"] == row["learner"]

    code, seen, _ = _interrupt_when(subs, out, len(done) + 3, signal.SIGKILL)
    assert code == -signal.SIGKILL
    _assert_all_gone(seen)
    killed_at = _finished(out)
    assert len(done) + 3 <= killed_at < len(expected)

    _same_engine_as(reference)
    result = _grade(subs, out)
    assert result.returncode == 0, result.stderr
    assert f"{len(expected) - killed_at} graded, {killed_at} unchanged" in result.stdout
    assert (out / "grades.csv").read_bytes() == (reference / "grades.csv").read_bytes()
    assert not list(out.rglob("*.tmp")) and not (out / ".work").exists()
    counters = _counters(out)
    assert set(counters) == set(expected)
    assert all(graded == 1 for graded, _ in counters.values()), counters


# ---------------------------------------------------------------- cheap pieces

def test_force_regrades_and_the_journal_counts_it(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "empty").mkdir()
    (subs / "junk.txt").write_text("x")
    out = tmp_path / "out"
    for extra, graded in (((), 1), ((), 1), (("--force",), 2)):
        result = _grade(subs, out, *extra)
        assert result.returncode == 0, result.stderr
        assert {g for g, _ in _counters(out).values()} == {graded}


def test_usage_errors_exit_2(tmp_path):
    result = _grade(tmp_path / "missing", tmp_path / "out")
    assert result.returncode == 2 and "does not exist" in result.stderr
    (tmp_path / "subs").mkdir()
    result = _grade(tmp_path / "subs", tmp_path / "subs" / "out")
    assert result.returncode == 2 and "inside" in result.stderr
    result = subprocess.run([*GRADER.split(), "grade", str(tmp_path / "subs"), "-o", str(tmp_path / "o"),
                             "--exercises", "ex99"], capture_output=True, text=True)
    assert result.returncode == 2 and "unknown exercise" in result.stderr


def test_learner_ids_are_safe_folder_names_and_unique(tmp_path):
    assert sanitise_learner_id("José Ñ.zip") == "José_Ñ"
    assert sanitise_learner_id("=HYPERLINK(x)") == "HYPERLINK_x"
    assert sanitise_learner_id("-rf") == "_rf" and sanitise_learner_id("..") == "_"
    assert sanitise_learner_id("grades.csv") == "grades.csv_"
    for name in ("ann", "ann.zip", ".DS_Store", "a b"):
        (tmp_path / name).mkdir() if not name.endswith(".zip") else (tmp_path / name).write_bytes(b"")
    entries = discover(tmp_path)
    assert [(e.learner, e.kind) for e in entries] == [("a_b", "folder"), ("ann", "folder"), ("ann-2", "zip")]


def test_unsafe_zips_are_refused_before_anything_is_written(tmp_path):
    bad = {
        "absolute": {"/etc/evil.py": "x"},
        "dotdot": {"ok/../../evil.py": "x"},
        "backslash": {"..\\evil.py": "x"},
    }
    for name, files in bad.items():
        _zip(tmp_path / f"{name}.zip", files)
        with pytest.raises(UnsafeSubmission, match="absolute|leaves"):
            extract_zip(tmp_path / f"{name}.zip", tmp_path / "dest" / name)
        assert not (tmp_path / "dest" / name).exists()
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ex03_activations.py", b"\0" * (51 * 1024 * 1024))
    with pytest.raises(UnsafeSubmission, match="MB"):
        extract_zip(tmp_path / "bomb.zip", tmp_path / "dest" / "bomb")
    _zip(tmp_path / "fine.zip", {"sub/ex03_activations.py": "x = 1\n", "__MACOSX/._x": "junk"})
    extract_zip(tmp_path / "fine.zip", tmp_path / "dest" / "fine")
    assert (tmp_path / "dest" / "fine" / "sub" / "ex03_activations.py").read_text() == "x = 1\n"
    assert not (tmp_path / "dest" / "fine" / "__MACOSX").exists()
    assert not any(p.name == "evil.py" for p in tmp_path.rglob("*"))


def test_grades_csv_cells_cannot_become_formulas(tmp_path):
    for text in ("=1+1", "+cmd", "-2", "@SUM(A1)", "\tx"):
        assert spreadsheet_safe(text).startswith("'")
    assert spreadsheet_safe("fine, really") == "fine, really"
    result = LearnerResult("ann", RunResult(), reason="=HYPERLINK(\"http://x\")\nsecond line")
    write_grades_csv(tmp_path / "grades.csv", ["ex01"], [("ann", result, ""), ("bob", None, "not yet")])
    rows = list(csv.reader(open(tmp_path / "grades.csv", newline="", encoding="utf-8-sig")))
    notes = rows[0].index("notes")
    assert rows[0][:notes + 1] == ["learner", "name", "ex01", "total", "max", "notes"]
    assert rows[1][0] == "Points Possible"
    assert rows[2][0] == "ann" and rows[2][notes].startswith("'=HYPERLINK") and "\n" not in rows[2][notes]
    assert rows[3][:notes + 1] == ["bob", "bob", "", "", "0", "not yet"]


def test_a_learner_has_one_wall_time_budget_for_all_its_calls(tmp_path):
    loop = "def neuron_sum(*a):\n    while True:\n        pass\n\nneuron_matmul = neuron_sum\n"
    (tmp_path / "ex02_neuron.py").write_text(loop)
    (tmp_path / "ex03_activations.py").write_text(loop.replace("neuron_sum", "sigmoid").replace(
        "neuron_matmul", "tanh = relu = softmax"))
    job = GradeJob("ann", str(tmp_path), "folder", str(tmp_path / "work"), ("ex02", "ex03"), 1,
                   budget_s=9.0, call_timeout_s=5.0)
    start = time.monotonic()
    result = grade_learner(job)
    assert time.monotonic() - start < 9.0 + 2 * 15  # the budget, plus at most two child starts
    assert "time budget" in result.reason and result.result.points == 0
    statuses = {t.status.value for e in result.result.exercises for t in e.tests}
    assert statuses == {"timeout"}


# Jobs for the pool tests: module-level, so the pool's workers can import them.
def _quick_job(job: GradeJob) -> LearnerResult:
    if job.learner == "sleepy":
        time.sleep(60)
    if job.learner == "dies":
        os._exit(9)
    return LearnerResult(job.learner, RunResult(), reason="quick")


def _pool_job(learner: str) -> GradeJob:
    return GradeJob(learner, f"/nowhere/{learner}", "junk", "/nowhere", ("ex01",), 0, budget_s=1.0)


def test_the_pool_stops_a_stuck_job_and_survives_a_dying_worker():
    results: dict[str, LearnerResult] = {}
    jobs = [_pool_job(name) for name in ("sleepy", "a", "dies", "b", "c")]
    start = time.monotonic()
    run_jobs(jobs, 2, lambda job: 4.0, lambda r: results.setdefault(r.learner, r), function=_quick_job)
    assert time.monotonic() - start < 45
    assert set(results) == {"sleepy", "a", "dies", "b", "c"}
    assert "longer than 4 s" in results["sleepy"].reason
    assert "died 2 times" in results["dies"].reason
    assert all(results[n].reason == "quick" for n in "abc")


def test_missing_sandbox_defences_are_announced_loudly(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import grader.engine.launch
    from grader.cli.main import cli

    monkeypatch.setattr(grader.engine.launch, "describe_defences",
                        lambda policy: (("time limits",), ("network namespace",)), raising=False)
    (tmp_path / "subs").mkdir()
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "subs"), "-o", str(tmp_path / "out"),
                                      "--exercises", "ex02"])
    assert result.exit_code == 0, result.output
    assert "sandbox defences active: time limits" in result.output
    assert "WARNING: sandbox defence MISSING on this machine: network namespace" in result.output
    assert (tmp_path / "out" / "grades.csv").read_text("utf-8-sig").startswith("learner,name,ex02,total,max,notes")


def test_a_linked_folder_inside_a_submission_is_not_followed(tmp_path):
    """A learner folder holding a link to the solutions (or to another learner) earns nothing."""
    from grader.checking.submission import load_submission

    (tmp_path / "mallory").mkdir()
    (tmp_path / "mallory" / "stuff").symlink_to(PROJECT_ROOT / "solutions", target_is_directory=True)
    assert load_submission(tmp_path / "mallory").files == {}
    job = GradeJob("mallory", str(tmp_path / "mallory"), "folder", str(tmp_path / "work"),
                   ("ex03",), 7, 60.0, 5.0)
    result = grade_learner(job)
    assert result.result.points == 0 and "no exercise files" in result.reason


def test_a_batch_leaves_no_zygote_folder_behind(tmp_path):
    """Pool workers end with os._exit (no atexit): their zygotes' folders must still go."""
    import tempfile

    subs = tmp_path / "subs"
    _files(subs / "ann", {"ex03_activations.py": solution_source("ex03")})
    before = set(Path(tempfile.gettempdir()).glob("grader-zygote-*"))
    done = subprocess.run([*GRADER.split(), "grade", str(subs), "-o", str(tmp_path / "out"),
                           "--workers", "2", "--exercises", "ex03", "--seed", "7"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(Path(tempfile.gettempdir()).glob("grader-zygote-*")) - before == set()
