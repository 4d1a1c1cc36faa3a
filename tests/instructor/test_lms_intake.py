"""The LMS round trip without grading: intake of Moodle and Canvas downloads laid out as the
LMSs write them, grades.csv read back with csv, the Canvas gradebook merge, overrides,
a stub .py beside a solved notebook, and the summary's pass rates among those who attempted."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import nbformat
import pytest
from helpers import solution_source, stub_source

from grader.checking.job import LearnerResult
from grader.checking.outcomes import ExerciseResult, RunResult, Status, TestResult
from grader.checking.submission import load_submission
from grader.instructor.canvas import CanvasProblem, merge_canvas
from grader.instructor.gradebook import write_grades_csv
from grader.instructor.intake import discover
from grader.instructor.overrides import OverrideProblem, add_override, apply_overrides, read_overrides
from grader.instructor.summary import _label, summarise


def _zip(path: Path, files: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)


def test_moodle_folders_holding_a_zip_and_flat_moodle_files(tmp_path):
    subs = tmp_path / "subs"
    folder = subs / "José Müller_1001_assignsubmission_file_"
    folder.mkdir(parents=True)
    _zip(folder / "submission.zip", {"ex02_neuron.py": "x = 1\n"})
    plain = subs / "Ann Lee_1002_assignsubmission_file_"
    plain.mkdir()
    (plain / "ex02_neuron.py").write_text("x = 2\n")
    (subs / "Bob Ray_1003_assignsubmission_file_ex02_neuron.py").write_text("x = 3\n")
    (subs / "Bob Ray_1003_assignsubmission_file_ex03_activations.py").write_text("x = 4\n")
    entries = {e.name: e for e in discover(subs, tmp_path / "staging")}
    assert set(entries) == {"José Müller", "Ann Lee", "Bob Ray"}
    jose = entries["José Müller"]
    assert (jose.kind, jose.path.name, jose.lms, jose.lms_id) == ("zip", "submission.zip", "moodle", "1001")
    assert jose.learner == "José_Müller"
    assert entries["Ann Lee"].kind == "folder" and entries["Ann Lee"].lms_id == "1002"
    bob = entries["Bob Ray"]
    assert bob.kind == "folder" and bob.lms == "moodle"
    assert sorted(p.name for p in bob.path.iterdir()) == ["ex02_neuron.py", "ex03_activations.py"]


def test_canvas_bulk_download_is_one_learner_per_login_and_the_latest_upload_wins(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    files = {
        "doejane_48213_1093321_ex02_neuron.py": "first\n",
        "doejane_48213_1093400_ex02_neuron-1.py": "second\n",
        "doejane_48213_1093500_ex02_neuron-2.py": "third\n",
        "doejane_48213_1093321_ex03_activations.py": "act\n",
        "smithbob_late_50000_1100000_ex02_neuron.py": "late\n",
        "leeann_60000_1200000_submission.zip": "",
        "doejane_48213_1093321_screencast.mp4": "not graded, not copied",
    }
    for name, text in files.items():
        (subs / name).write_text(text)
    _zip(subs / "leeann_60000_1200000_submission.zip", {"ex02_neuron.py": "zipped\n"})
    entries = {e.learner: e for e in discover(subs, tmp_path / "staging")}
    assert set(entries) == {"doejane", "smithbob", "leeann"}
    jane = entries["doejane"]
    assert (jane.lms, jane.lms_id, jane.login, jane.kind) == ("canvas", "48213", "doejane", "folder")
    assert sorted(p.name for p in jane.path.iterdir()) == ["ex02_neuron.py", "ex03_activations.py"]
    assert (jane.path / "ex02_neuron.py").read_text() == "third\n"
    assert entries["smithbob"].late and not jane.late
    assert entries["leeann"].kind == "zip" and entries["leeann"].path.name.endswith("submission.zip")
    assert load_submission(jane.path).files["ex02"].source == "third\n"
    # hostile names: a ".." original name or a link never leaves the staging folder
    (subs / "evil_1_2_..").write_text("x")
    (subs / "evil_1_3_ex02_neuron.py").symlink_to(subs / "doejane_48213_1093321_ex03_activations.py")
    entries = {e.learner: e for e in discover(subs, tmp_path / "staging2")}
    assert {entries[k].kind for k in entries if k.startswith("evil")} == {"junk"}
    assert sorted(p.name for p in (tmp_path / "staging2").iterdir()) == ["doejane", "smithbob"]


GRADESCOPE_METADATA = """\
submission_101:
  :submitters:
  - :name: Ana Silva
    :sid: '2024001'
    :email: ana@example.edu
  :created_at: 2026-11-30 10:00:00.000000000 -08:00
  :score: 0.0
submission_102:
  :submitters:
  - :name: Ben Ode
    :sid: '2024002'
    :email: ben@example.edu
  - :name: Cy Lam
    :sid: '2024003'
    :email: cy@example.edu
"""


def test_gradescope_export_folders_get_the_submitters_names(tmp_path):
    subs = tmp_path / "assignment_55_export"
    for folder in ("submission_101", "submission_102"):
        (subs / folder).mkdir(parents=True)
        (subs / folder / "ex02_neuron.py").write_text("x = 1\n")
    (subs / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    entries = {e.name: e for e in discover(subs, tmp_path / "staging")}
    assert set(entries) == {"Ana Silva", "Ben Ode & Cy Lam"}  # the metadata file is no learner
    ana = entries["Ana Silva"]
    assert (ana.learner, ana.lms, ana.lms_id, ana.login, ana.kind) == (
        "Ana_Silva", "gradescope", "2024001", "ana@example.edu", "folder")
    assert ana.source == "submission_101"


def _notebook(path: Path, source: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(notebook, str(path))


def test_a_stub_py_beside_a_solved_notebook_does_not_win(tmp_path):
    (tmp_path / "ex03_activations.py").write_text(stub_source("ex03"))
    _notebook(tmp_path / "ex03_activations.ipynb", solution_source("ex03"))
    os.utime(tmp_path / "ex03_activations.py", (2e9, 2e9))  # the stub is even the newer file
    chosen = load_submission(tmp_path).files["ex03"]
    assert chosen.path.name == "ex03_activations.ipynb"
    assert any("graded ex03_activations.ipynb" in n and "stubs" in n for n in chosen.notes)
    # two attempts: the newer one, and the feedback says so
    (tmp_path / "ex03_activations.py").write_text(solution_source("ex03"))
    os.utime(tmp_path / "ex03_activations.ipynb", (1e9, 1e9))
    chosen = load_submission(tmp_path).files["ex03"]
    assert chosen.path.name == "ex03_activations.py" and "newer" in chosen.notes[0]


def _result(learner: str, points: dict[str, tuple[float, float, Status]]) -> LearnerResult:
    exercises = tuple(ExerciseResult(ex, ex, (TestResult(ex, f"test_{ex}", "public", p, m, s),))
                      for ex, (p, m, s) in points.items())
    return LearnerResult(learner, RunResult(exercises))


def _read_csv(path: Path) -> tuple[str, list[list[str]]]:
    raw = path.read_bytes()
    return raw[:3].hex(), list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_grades_csv_keeps_original_names_with_bom_points_possible_version_and_seed(tmp_path):
    ann = _result("1_555_0100", {"ex02": (4, 4, Status.PASSED), "ex03": (0, 6, Status.NOT_ATTEMPTED)})
    write_grades_csv(tmp_path / "grades.csv", ["ex02", "ex03"],
                     [("1_555_0100", ann, ""), ("bob", None, "later")],
                     names={"1_555_0100": "+1 555 0100", "bob": "José_Müller"}, seed="77")
    bom, rows = _read_csv(tmp_path / "grades.csv")
    assert bom == "efbbbf"
    assert rows[0] == ["learner", "name", "ex02", "ex03", "total", "max", "notes", "grader_version", "seed"]
    assert rows[1][:6] == ["Points Possible", "", "4", "6", "10", "10"]
    assert rows[2][:2] == ["1_555_0100", "'+1 555 0100"] and rows[2][4] == "4" and rows[2][-1] == "77"
    assert rows[2][-2] == ann.grader_version != ""
    assert rows[3][:2] == ["bob", "José_Müller"]


CANVAS_EXPORT = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Lab 1 (123),Current Score\r\n"
    "    Points Possible,,,,,10,(read only)\r\n"
    '"Doe, Jane",48213,S1,doejane,Sec A,,50\r\n'
    '"Müller, José",48214,S2,jmuller,Sec A,3,60\r\n'
    '"Nobody, Not",48215,S3,nobody,Sec B,,0\r\n'
)


def test_canvas_gradebook_merge_round_trips(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("\ufeff" + CANVAS_EXPORT, encoding="utf-8")
    roster = {"doejane": {"name": "doejane", "login": "janed", "lms_id": "48213", "lms": "canvas"},
              "José_Müller": {"name": "José Müller", "lms": "moodle"},
              "stranger": {"name": "Stranger Danger"}}
    merged = merge_canvas(export, "Lab 1 (123)", {"doejane": 7.5, "José_Müller": 9, "stranger": 1}, 17,
                          roster, tmp_path / "import.csv")
    rows = list(csv.DictReader(open(tmp_path / "import.csv", newline="", encoding="utf-8-sig")))
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Lab 1 (123)"]
    assert rows[0]["Student"].strip() == "Points Possible" and rows[0]["Lab 1 (123)"] == "17"
    by_login = {r["SIS Login ID"]: r for r in rows[1:]}
    assert by_login["doejane"]["Lab 1 (123)"] == "7.5" and by_login["doejane"]["ID"] == "48213"
    assert by_login["jmuller"]["Lab 1 (123)"] == "9"  # matched by name, "Last, First"
    assert by_login["nobody"]["Lab 1 (123)"] == ""
    assert merged.unmatched_learners == ("Stranger Danger",)
    assert merged.students_without_grade == ("Nobody, Not",)
    (tmp_path / "bad.csv").write_text("Name,Score\nx,1\n")
    with pytest.raises(CanvasProblem, match="not a Canvas gradebook"):
        merge_canvas(tmp_path / "bad.csv", "Lab 1 (123)", {}, 1, {}, tmp_path / "x.csv")


def test_overrides_are_recorded_checked_and_applied(tmp_path):
    ann = _result("ann", {"ex02": (0, 4, Status.FAILED)})
    with pytest.raises(OverrideProblem, match="no check"):
        add_override(tmp_path, ann, "test_nothing", 1, "x")
    with pytest.raises(OverrideProblem, match="between 0 and 4"):
        add_override(tmp_path, ann, "test_ex02", 5, "x")
    with pytest.raises(OverrideProblem, match="--reason"):
        add_override(tmp_path, ann, "test_ex02", 2, " ")
    add_override(tmp_path, ann, "test_ex02", 1, "first try")
    add_override(tmp_path, ann, "ex02:test_ex02", 3, "right idea, float32 rounding")
    items = read_overrides(tmp_path)["ann"]
    assert len(items) == 1 and items[0].points == 3
    fixed = apply_overrides(ann, items)
    assert fixed.result.points == 3 and "float32 rounding" in fixed.result.exercises[0].notes[0]


def test_summary_counts_only_learners_who_attempted_and_labels_break_at_words():
    tried = _result("a", {"ex08": (1, 1, Status.PASSED)})
    failed = _result("b", {"ex08": (0, 1, Status.FAILED)})
    absent = [_result(f"c{i}", {"ex08": (0, 1, Status.NOT_ATTEMPTED)}) for i in range(5)]
    summary = summarise(7, [tried, failed, *absent], ["ex08"])
    assert summary["checks"][0]["count"] == 2 and summary["checks"][0]["pass_rate"] == 0.5
    assert summary["exercises"][0]["pass_rate_attempted"] == 0.5 and summary["exercises"][0]["attempted"] == 2
    name = "ex04 [hidden] test_dense_layer_matches_reference_on_random_inputs_of_every_shape_and_more"
    label = _label(name)
    words = set(name.replace("_", " ").split())
    for piece in label.replace("…", "").replace("\n", " ").replace("_", " ").split():
        assert piece in words, piece  # no word cut in the middle
