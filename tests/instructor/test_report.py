"""OUT/report.html from a real small batch (Moodle + Canvas layouts, planted mistakes, an XSS
name), asserted as text, then opened in a real Chromium through Playwright: no request leaves
the file, sorting, filtering and the drill-down work, and the XSS name stays text."""

from __future__ import annotations

import csv
import time
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from helpers import solution_source, stub_source

GRADER = shutil.which("grader") or f"{sys.executable} -m grader.cli.main"
XSS = "<img src=x onerror=alert(1)>"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _variant(exercise_id: str, old: str, new: str) -> str:
    source = solution_source(exercise_id)
    assert old in source, f"the solution of {exercise_id} changed: {old!r} is gone"
    return source.replace(old, new)


def _no_bias() -> str:
    return _variant("ex02", "tf.reduce_sum(x * w, axis=1, keepdims=True) + b",
                    "tf.reduce_sum(x * w, axis=1, keepdims=True)")


def _sigmoid_sign() -> str:
    return _variant("ex03", "1.0 / (1.0 + tf.exp(-x))", "1.0 / (1.0 + tf.exp(x))")


def _build(subs: Path) -> None:
    subs.mkdir()
    moodle = subs / "José Müller_1001_assignsubmission_file_"
    moodle.mkdir()
    with zipfile.ZipFile(moodle / "submission.zip", "w") as archive:
        archive.writestr("work/ex02_neuron.py", _no_bias())
        archive.writestr("work/ex03_activations.py", solution_source("ex03"))
    (subs / "doejane_48213_1093321_ex02_neuron.py").write_text(stub_source("ex02"))
    (subs / "doejane_48213_1093400_ex02_neuron-1.py").write_text(_no_bias())
    (subs / "doejane_48213_1093400_ex03_activations.py").write_text(_sigmoid_sign())
    (subs / "smithbob_late_50000_1100000_ex02_neuron.py").write_text(solution_source("ex02"))
    xss = subs / XSS
    xss.mkdir()
    (xss / "ex02_neuron.py").write_text(solution_source("ex02"))
    (xss / "ex03_activations.py").write_text(stub_source("ex03"))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(solution_source("ex03"))]
    nbformat.write(notebook, str(xss / "ex03_activations.ipynb"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRADER.split(), *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    _build(root / "subs")
    result = _run("grade", str(root / "subs"), "-o", str(root / "out"), "--exercises", "ex02,ex03",
                  "--workers", "2", "--seed", "5", "--timeout", "10")
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "out"


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8-sig") as stream:
        return {r["learner"]: r for r in csv.DictReader(stream)}


def test_lms_layouts_are_graded_under_original_names(batch):
    rows = _rows(batch)
    assert set(rows) == {"Points Possible", "José_Müller", "doejane", "smithbob", "img_src_x_onerror_alert_1"}
    assert rows["José_Müller"]["name"] == "José Müller" and float(rows["José_Müller"]["ex03"]) > 0
    assert rows["img_src_x_onerror_alert_1"]["name"] == XSS
    possible = rows["Points Possible"]
    assert float(rows["smithbob"]["ex02"]) == float(possible["ex02"]) > 0  # the late Canvas file, solved
    assert float(rows["img_src_x_onerror_alert_1"]["ex03"]) == float(possible["ex03"])  # the notebook won
    assert 0 < float(rows["doejane"]["ex02"]) < float(possible["ex02"])  # the latest upload: no bias
    assert rows["doejane"]["seed"] == "5" and rows["doejane"]["grader_version"]
    feedback = (batch / "img_src_x_onerror_alert_1" / "feedback.md").read_text()
    assert "graded ex03_activations.ipynb, not ex03_activations.py" in feedback.replace("\\", "")  # Markdown-escaped dots
    assert not (batch / ".intake").exists()


def test_report_names_what_the_class_misunderstood_and_escapes_names(batch):
    text = (batch / "report.html").read_text("utf-8")
    assert XSS not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    mistakes = text[text.index('id="misunderstood"'):text.index("<h2>Scores")]
    bias = mistakes.index("without the bias")
    assert "ex02: 50 %</span> (2 of 4 who attempted it)" in mistakes[:bias] and "sigmoid(-x)" in mistakes
    assert bias < mistakes.index("sigmoid(-x)")  # 2 learners before 1
    assert 'href="#learner-doejane"' in mistakes and 'href="#learner-José_Müller"' in mistakes
    assert text.count("<svg") >= 4 and 'id="learner-smithbob"' in text


def test_report_lists_similar_work_for_a_person_to_look_at(batch):
    text = (batch / "report.html").read_text("utf-8")
    similar = text[text.index('id="similar"'):text.index('<h2 id="learners">')]
    groups = {(g["exercise"], g["kind"], tuple(sorted(g["learners"])))
              for g in __import__("json").loads((batch / "summary.json").read_text())["similarity"]}
    xss_id = next(r for r in _rows(batch) if "img" in r)
    # The same correct ex02 handed in by two learners; the same no-bias mistake (Moodle zip and
    # Canvas resubmission) by two others. Flagged, with links; the grades are what they earned.
    assert ("ex02", "identical", tuple(sorted([xss_id, "smithbob"]))) in groups
    assert ("ex02", "identical", tuple(sorted(["José_Müller", "doejane"]))) in groups
    assert 'href="#learner-smithbob"' in similar and 'href="#learner-doejane"' in similar
    assert XSS not in similar and "&lt;img src=x onerror=alert(1)&gt;" in similar
    assert _rows(batch)["smithbob"]["ex02"] == _rows(batch)["Points Possible"]["ex02"]


def test_report_and_overrides_from_the_command_line(batch, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(batch, out)
    before = float(_rows(out)["doejane"]["total"])
    result = _run("override", str(out), "doejane", "nothing", "1", "--reason", "x")
    assert result.returncode == 2 and "no check named" in result.stderr and "Traceback" not in result.stderr
    check = next(t["name"] for e in __import__("json").loads((out / "doejane" / "result.json").read_text())
                 ["exercises"] if e["id"] == "ex03" for t in e["tests"] if t["status"] != "passed")
    result = _run("override", str(out), "doejane", f"ex03:{check}", "0.5", "--reason", "sign slip only")
    assert result.returncode == 0, result.stderr
    assert float(_rows(out)["doejane"]["total"]) == pytest.approx(before + 0.5)
    summary = __import__("json").loads((out / "summary.json").read_text())
    mean_before = __import__("json").loads((batch / "summary.json").read_text())["scores"]["mean"]
    assert summary["scores"]["mean"] == pytest.approx(mean_before + 0.5 / 4, abs=1e-3)
    assert "Score: " + f"{before + 0.5:g}" in (
        out / "doejane" / "feedback.md").read_text()
    assert "sign slip only" in (out / "doejane" / "feedback.md").read_text()
    assert "sign slip only" in (out / "report.html").read_text()
    (out / "report.html").unlink()
    assert _run("report", str(out)).returncode == 0 and "sign slip only" in (out / "report.html").read_text()
    rerun = _run("grade", str(batch.parent / "subs"), "-o", str(out), "--exercises", "ex02,ex03",
                 "--seed", "5",
                 "--timeout", "10")
    assert rerun.returncode == 0 and "0 to grade" in rerun.stderr, rerun.stderr
    assert float(_rows(out)["doejane"]["total"]) == pytest.approx(before + 0.5)  # the correction survives
    assert (out / "doejane" / "feedback.md").read_text().count("sign slip only") == 1
    result = _run("report", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    export = tmp_path / "canvas.csv"
    export.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Lab (7)\n    Points Possible,,,,,20\n"
                      '"Doe, Jane",48213,,doejane,A,\n"Ray, Bob",50000,,smithbob,A,\n', encoding="utf-8")
    result = _run("lms", "canvas", str(out), "--gradebook", str(export), "--assignment", "Lab (7)",
                  "-o", str(tmp_path / "import.csv"))
    assert result.returncode == 0, result.stderr
    assert "NOT IN CANVAS (2)" in result.stderr and "José Müller" in result.stderr
    rows = list(csv.DictReader(open(tmp_path / "import.csv", encoding="utf-8-sig")))
    assert {r["SIS Login ID"]: r["Lab (7)"] for r in rows[1:]} == {
        "doejane": f"{before + 0.5:g}", "smithbob": _rows(out)["smithbob"]["total"]}
    for command in (["report"], ["lms", "canvas"], ["export", "canvas"], ["override"]):
        assert _run(*command, "--help").returncode == 0


def _wait_open(page, selector: str, within_s: float = 10.0) -> None:
    """The drill-down opens (polled from here: the report's CSP forbids evaluated JavaScript)."""
    deadline = time.monotonic() + within_s
    while page.locator(selector).get_attribute("open") is None:
        assert time.monotonic() < deadline, f"{selector} did not open"
        page.wait_for_timeout(100)


def test_report_in_a_real_browser(batch, tmp_path):
    if not Path(CHROMIUM).exists() or importlib.util.find_spec("playwright") is None:
        if os.environ.get("GRADER_REQUIRE_BROWSER"):
            pytest.fail(f"the browser test needs {CHROMIUM} (apt-get install chromium) and playwright")
        pytest.skip("needs Debian's chromium (apt-get install chromium) and playwright")
    from playwright import sync_api

    requests, errors, dialogs = [], [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        def route(route):
            if not route.request.url.startswith("file:"):
                requests.append(route.request.url)
                return route.abort()
            return route.continue_()

        page.route("**/*", route)
        page.goto((batch / "report.html").as_uri())
        assert page.locator("#learner-table tbody tr").count() == 4
        page.locator("#learner-table th", has_text="total").click()
        page.locator("#learner-table th", has_text="total").click()  # descending
        totals = [float(t or -1) for t in page.locator("#learner-table tbody tr td:nth-last-child(3)")
                  .all_inner_texts()]
        assert totals == sorted(totals, reverse=True) and len(set(totals)) > 1
        page.fill("#filter", "smithbob")
        assert page.locator("#learner-table tbody tr:visible").count() == 1
        assert page.locator("#shown").inner_text() == "1 of 4 shown"
        page.fill("#filter", "")
        page.locator("#learner-table a", has_text="doejane").click()  # two clicks: table, then name
        _wait_open(page, "#learner-doejane")
        assert "Feedback for doejane" in page.locator("#learner-doejane pre").inner_text()
        page.locator("ol.mistakes a", has_text="José Müller").first.click()
        _wait_open(page, "#learner-José_Müller")
        page.locator("table.similar a", has_text="smithbob").first.click()  # a flagged pair's link
        _wait_open(page, "#learner-smithbob")
        assert XSS in page.locator("#learner-table").inner_text()  # shown as text
        assert page.locator("#learner-table img").count() == 0
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)  # for the record
        browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert requests == [] and errors == [] and dialogs == []
