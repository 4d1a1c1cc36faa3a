"""Untrusted text is inert everywhere, and caps come before work (issue 9, findings 10 and 11).

A learner file raises an exception whose type name, message and traceback carry terminal
escape sequences (OSC 52 clipboard write, screen clear, title change), HTML, rich markup
and Markdown that would start a table or a heading; a zip carries a member name with
the same. They are graded through the real grader (`grader check`, `grader grade`, the
Gradescope entry point, each a real subprocess with a real child), and every place the
text comes out is read back the way its consumer reads it: the terminal bytes, feedback.md
rendered by markdown-it-py, grades.csv through the csv module, the JSON files through json.

The caps: a zip declaring 2 million entries is refused from its End Of Central Directory
record alone (time and peak memory measured in a subprocess); `show()` and ex01's describe
check stay cheap on a 60 MiB array; an oversized exercise file is not read.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from helpers import solution_source
from markdown_it import MarkdownIt

from grader.checking.archive import (
    MAX_ZIP_ENTRIES,
    UnsafeSubmission,
    central_directory,
    extract_zip,
)
from grader.checking.feedback import show
from grader.checking.inert import (
    csv_cell,
    html_text,
    inert,
    inert_json,
    inert_line,
    markdown_block,
    markdown_inline,
    terminal_text,
)
from grader.checking.job import LearnerResult
from grader.checking.outcomes import ExerciseResult, RunResult, Status, TestResult
from grader.checking.submission import MAX_SOURCE_BYTES, load_submission
from grader.course.exercises import EXERCISES, PROJECT_ROOT
from grader.instructor.gradebook import feedback_markdown

GRADER = shutil.which("grader") or f"{sys.executable} -m grader.cli.main"
PYTHONPATH = {"PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"
CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned-title\x1b\\"
C1_CSI = "\x9b31m"
HTML = "<img src=x onerror=alert(1)>"
MARKUP = "[red]RED[/red] [link=http://evil.example]click[/link]"
BLOCKS = "\n| a | b |\n|---|---|\n| 1 | 2 |\n# heading\n> quote"
LINKS = "[click](http://evil.example) ![pic](http://evil.example/x.png) <http://evil.example> " \
        "http://evil.example/p www.evil.example mail@evil.example &lt;b&gt;"
BIDI = "\u202eexe.cod\u2066"
HOSTILE = f"boom {OSC52}{CLEAR}{TITLE}{C1_CSI} {HTML} {MARKUP}{BLOCKS} {LINKS} {BIDI} end"
VISIBLE = ("boom", "onerror=alert(1)", "[red]RED[/red]", "| a | b |", "# heading", "evil.example", "end")

#: What must never come out: escape/control characters (C0 but newline and tab, DEL, C1) and bidi.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _md() -> MarkdownIt:
    """CommonMark with GitHub's tables, strikethrough and autolinks."""
    return MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])


def _all_tokens(tokens: list[Any]) -> list[Any]:
    found = []
    for token in tokens:
        found.append(token)
        found += _all_tokens(token.children or [])
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def assert_inert(text: str, where: str) -> None:
    bad = FORBIDDEN.findall(text)
    assert not bad, f"{where}: control/escape/bidi characters {sorted(set(map(repr, bad)))} came out"
    for payload in ("52;c;", "pwned-title", "src-title"):
        assert payload not in text, f"{where}: an escape sequence's payload {payload!r}"


# ---------------------------------------------------------------- the functions


def test_inert_removes_escape_sequences_controls_and_bidi_and_keeps_the_words():
    text = inert(HOSTILE)
    assert_inert(text, "inert")
    for word in VISIBLE:
        assert word in text
    assert "\n| a | b |" in text  # newlines are kept by inert itself; the sinks decide
    assert inert("a\r\nb\rc\u2028d\x85e") == "a\nb\nc\nd\ne"
    assert inert("tab\there") == "tab\there" and inert_line("a\tb\nc") == "a b c"
    assert inert("name-\udcff.py") == "name-\ufffd.py"  # an undecodable file name can be written
    assert inert("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "link"  # OSC 8 hyperlink
    assert inert("\x1bPq#0;1;2\x1b\\ok\x1bc\x1b(B") == "ok"  # DCS, reset, charset
    assert inert("\x1b]52;c;unterminated") == "52;c;unterminated"  # harmless once ESC ] is gone
    assert inert("x" * 1000, limit=10) == "x" * 9 + "…"
    assert inert_json({"k\x1b[1m": ["v\x07", 1, None, {"n": "\x9b2J"}]}) == {"k": ["v", 1, None, {"n": ""}]}


def test_markdown_inline_renders_back_to_exactly_the_inert_text():
    md = _md()
    for text in (HOSTILE, "1. not a list", "2) nor this", "- not a list", "  + nor this", "=SUM(A1)",
                 "*a* _b_ `c` ~~d~~ \\ e $x$", "see model.py, www.x.com or https://x.com/a",
                 "x" * 5 + "|" + "-" * 3, "heading #", "<!-- c -->", "&amp; &#x3C;",
                 "__init__ _x_ a__b"):
        tokens = md.parse(f"> note: {markdown_inline(text)}\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
        kinds = {t.type for t in _all_tokens(tokens)}
        assert kinds <= {"blockquote_open", "blockquote_close", "paragraph_open", "paragraph_close",
                         "inline", "text", "table_open", "thead_open", "tr_open", "th_open", "th_close",
                         "tr_close", "thead_close", "tbody_open", "td_open", "td_close", "tbody_close",
                         "table_close"}, kinds
        [first] = [t for t in tokens if t.type == "inline"][:1]
        assert "".join(c.content for c in first.children) == f"note: {inert_line(text).strip()}"
        assert sum(t.type == "table_open" for t in tokens) == 1


def test_markdown_block_is_one_code_block_holding_the_inert_text():
    text = HOSTILE + "\n```\n````text\n~~~"
    tokens = _md().parse(markdown_block(text))
    assert [t.type for t in tokens] == ["fence"]
    assert tokens[0].content == inert(text) + "\n"


def test_html_csv_and_terminal_sinks():
    assert "<" not in html_text(HTML) and "&lt;img src=x onerror=alert(1)&gt;" == html_text(HTML)
    assert html_text('"\'') == "&quot;&#x27;"
    for formula in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\x1b[0m=1+1", "\r=1"):
        assert csv_cell(formula).startswith("'"), formula
    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_cell(HOSTILE), "x"])
    [row] = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert row == [inert_line(HOSTILE), "x"] and "\n" not in row[0]
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", highlight=False, width=400)
    console.print(terminal_text(MARKUP + OSC52 + CLEAR))
    assert out.getvalue() == MARKUP + "\n"  # rich markup printed literally, no escape at all


def _learner(exercise_ids: list[str], notes: tuple[str, ...]) -> LearnerResult:
    exercises = tuple(
        ExerciseResult(e, f"title {e}", (
            TestResult(e, "a check", "public", 1.0, 1.0, Status.PASSED),
            TestResult(e, f"another check {HTML}", "public", 0.0, 1.0, Status.FAILED, HOSTILE),
        ), notes) for e in exercise_ids)
    return LearnerResult("nb_learner", RunResult(exercises, notes), reason=f"reason {HOSTILE}")


def test_every_table_renders_when_notes_stand_above_it():
    """issue 13 finding 3: a `> note:` line directly above a table swallowed it (0 of 8 rendered)."""
    ids = [e.id for e in EXERCISES]
    notes = ("skipped IPython line 1 of cell 1: %matplotlib inline", f"and a hostile one {HOSTILE}")
    page = feedback_markdown(_learner(ids, notes), reveal_hidden=True)
    _assert_feedback_page(page, attempted=len(ids))


def _assert_feedback_page(page: str, attempted: int) -> None:
    """feedback.md as a Markdown renderer sees it: tables render, learner text creates nothing."""
    assert_inert(page, "feedback.md")
    tokens = _all_tokens(_md().parse(page))
    kinds = {t.type for t in tokens}
    assert not kinds & {"html_block", "html_inline", "image", "link_open"}, kinds
    tables = [t for t in tokens if t.type == "table_open"]
    assert len(tables) == attempted, f"{len(tables)} of {attempted} tables render"
    header_cells = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "th_open"]
    assert header_cells == ["", "check", "points"] * attempted, header_cells
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert not any("heading" in h for h in headings), headings
    html = _md().render(page)
    assert "<img" not in html and "<a " not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# ---------------------------------------------------------------- zips: caps before work

_CDH = struct.Struct("<4s6H3L5H2L")  # central directory file header (46 bytes)


def _write_central_directory_zip(path: Path, entries: int, declared: int | None = None) -> None:
    """A zip of `entries` empty members (central directory only, Zip64 end records), written fast."""
    record = _CDH.pack(b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    with open(path, "wb") as stream:
        block = record * 10_000
        for _ in range(entries // 10_000):
            stream.write(block)
        stream.write(record * (entries % 10_000))
        size = len(record) * entries
        declared = entries if declared is None else declared
        eocd64_at = stream.tell()
        stream.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, declared, declared,
                                 size, 0))
        stream.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, eocd64_at, 1))
        stream.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(declared, 0xFFFF),
                                 min(declared, 0xFFFF), 0xFFFFFFFF, 0xFFFFFFFF, 0))


# Peak memory is the process image's own high-water mark (VmHWM): on Linux, getrusage's ru_maxrss
# in a child of this big pytest process starts at the parent's size (exec keeps the larger of
# the old and new image's peaks), so it cannot show a refusal that costs a few MiB.
_MEASURE = textwrap.dedent("""
    import json, re, resource, sys, time
    from pathlib import Path
    from grader.checking.archive import UnsafeSubmission, extract_zip

    def peak():
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024

    before = peak()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        extract_zip(Path(sys.argv[1]), Path(sys.argv[2]))
        message = None
    except UnsafeSubmission as exc:
        message = str(exc)
    print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                      "peak_mib": peak(), "peak_before_mib": before,
                      "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "message": message}))
""")


def _refusal_cost(zip_path: Path, dest: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(zip_path), str(dest)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **PYTHONPATH})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_zip_of_two_million_entries_is_refused_from_its_end_record(tmp_path):
    """Before: zipfile listed the central directory first (990 MiB and 31 s on the issue's machine)."""
    bomb = tmp_path / "entries.zip"
    _write_central_directory_zip(bomb, 2_000_000)
    assert bomb.stat().st_size > 90_000_000
    with open(bomb, "rb") as stream:
        assert central_directory(stream) == (2_000_000, 47 * 2_000_000)
    cost = _refusal_cost(bomb, tmp_path / "dest")
    assert cost["message"] == f"the zip has 2000000 entries (at most {MAX_ZIP_ENTRIES} allowed)"
    assert cost["cpu"] < 0.5 and cost["seconds"] < 5.0, cost  # wall time allows for a loaded machine
    assert cost["peak_mib"] < 50, cost
    assert not (tmp_path / "dest").exists()


def test_a_zip_that_understates_its_entry_count_is_refused_by_its_directory_size(tmp_path):
    liar = tmp_path / "liar.zip"
    _write_central_directory_zip(liar, 300_000, declared=3)
    cost = _refusal_cost(liar, tmp_path / "dest")
    assert "list of files takes" in cost["message"] and cost["peak_mib"] < 50, cost
    assert cost["cpu"] < 0.5, cost


def test_the_end_record_is_found_where_zipfile_finds_it(tmp_path):
    cases = {"plain": b"", "comment": b"a comment", "tricky": b"PK\x05\x06 inside the comment" + b"x" * 30}
    for name, comment in cases.items():
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for i in range(5):
                archive.writestr(f"f{i}.py", "x = 1\n")
            archive.comment = comment
        with open(path, "rb") as stream:
            mine = central_directory(stream)
            stream.seek(0)
            theirs = zipfile._EndRecData(stream)  # the record zipfile will use
        assert mine == (theirs[4], theirs[5]), name
    extract_zip(tmp_path / "comment.zip", tmp_path / "out")
    assert (tmp_path / "out" / "f4.py").read_text() == "x = 1\n"
    (tmp_path / "short.zip").write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsafeSubmission, match="not a zip file"):
        extract_zip(tmp_path / "short.zip", tmp_path / "out2")


# ---------------------------------------------------------------- values: truncate before repr


def test_show_is_bounded_before_it_renders():
    big = np.zeros(15 * 2**20, np.float32)  # 60 MiB
    values = [big, np.zeros((2,) * 22, np.int8), np.array(["x" * 2**20] * 8), np.array(["y" * 50] * 100_000),
              tuple(range(1_000_000)), "z" * 4_000_000, 10**6000, [[1] * 1000] * 1000,
              {str(i): i for i in range(100_000)}, eval("[" * 30 + "1" + "]" * 30)]
    for value in values:
        tracemalloc.start()
        cpu = time.process_time()
        text = show(value)
        took = time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(text) <= 160 + 60, text  # the limit, plus "(shape ..., dtype)" for arrays
        assert took < 0.2 and peak < 2 * 2**20, (type(value).__name__, took, peak)
    assert show((2, (6, 4), "int32")) == "(2, (6, 4), 'int32')"
    assert show([1, 2.5, None, "a"]) == "[1, 2.5, None, 'a']" and show((1,)) == "(1,)"
    assert show(big) == "[0., 0., ..., 0., 0.] (shape (15728640,), float32)"


def test_describe_returning_a_60_mib_shape_fails_fast_and_small():
    """ex01: describe() whose shape is a 60 MiB int tensor. Before: a tuple of 15.7 million ints
    was built and printed (3.6 s and +360 MiB per check); now the failure costs almost nothing."""
    from grader.checking.feedback import CheckFailure
    from grader.checks.public.test_ex01_tensors import check_describe

    shape = np.zeros(15 * 2**20, np.int32)
    tracemalloc.start()
    cpu = time.process_time()
    with pytest.raises(CheckFailure) as failure:
        check_describe((2, shape, "int32"), [2, [6, 4], "int32"], "describe(m)")
    took, peak = time.process_time() - cpu, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "wrong shape" in str(failure.value) and "shape (15728640,)" in str(failure.value)
    assert took < 0.2 and peak < 2 * 2**20, (took, peak)


def test_an_oversized_exercise_file_is_not_read_and_the_learner_is_told(tmp_path):
    (tmp_path / "ex02_neuron.py").write_text("x = 0\n" + "#" * MAX_SOURCE_BYTES)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1\n" * (MAX_SOURCE_BYTES // 6 + 10))]
    (tmp_path / "ex03_activations.ipynb").write_text(nbformat.writes(notebook))
    plot = nbformat.v4.new_code_cell(solution_source("ex04"))
    plot.outputs = [nbformat.v4.new_output("display_data", {"image/png": "A" * (3 * MAX_SOURCE_BYTES)})]
    notebook.cells = [plot]
    (tmp_path / "ex04_layers.ipynb").write_text(nbformat.writes(notebook))  # big outputs, little code
    files = load_submission(tmp_path)
    assert "holds 1025 KiB of code, more than the 1024 KiB" in files.problems["ex02"], files.problems
    assert "code cells of the notebook add up to" in files.problems["ex03"]
    assert "ex04" in files.files and "ex04" not in files.problems  # an honest notebook with plots is read


# ---------------------------------------------------------------- through the real grader

_RAISE = "    raise type(\"Evil\\x1b[31m<b>\", (Exception,), {})(MESSAGE)  # \x1b]0;src-title\x07 <i>x</i>\n"
_BIG_ONCE = textwrap.dedent("""
    _calls = []


    def describe(tensor):
        _calls.append(1)
        if len(_calls) == 1:  # once: a 60 MiB "shape"
            return int(tensor.shape.rank), tf.zeros([15 * 1024 * 1024], tf.int32), tensor.dtype.name
        return _describe(tensor)
""")


def _hostile_source() -> str:
    source = solution_source("ex01")
    body = '    characters = list("tensor")\n    return tf.constant(characters, dtype=tf.string)\n'
    assert body in source and "\ndef describe(" in source
    source = source.replace(body, _RAISE).replace("\ndef describe(", "\ndef _describe(")
    return source.replace("\nif __name__", _BIG_ONCE + "\n\nif __name__") + f"\nMESSAGE = {HOSTILE!r}\n"


def _hostile_notebook() -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(f"!echo {inert_line(HOSTILE)} {OSC52}"),
                      nbformat.v4.new_code_cell(_hostile_source())]
    return nbformat.writes(notebook)


def _hostile_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ok/ex02_neuron.py", "x = 1\n")
        archive.writestr(f"../{OSC52}{CLEAR}\n| a | b |\n|---|---|\n# heading {HTML}.py", "x = 1\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The hostile learners through `grader check`, `grader grade` and the Gradescope entry point."""
    root = tmp_path_factory.mktemp("inert")
    env = {**os.environ, **PYTHONPATH, "GRADER_SEED": "5"}
    mine = root / "mine"
    mine.mkdir()
    (mine / "ex01_tensors.py").write_text(_hostile_source())
    check = subprocess.run([*GRADER.split(), "check", "ex01", "--dir", str(mine)], capture_output=True,
                           timeout=600, env=env)
    subs = root / "subs"
    (subs / "mallory").mkdir(parents=True)
    (subs / "mallory" / "ex01_tensors.ipynb").write_text(_hostile_notebook())
    _hostile_zip(subs / "zipped.zip")
    grade = subprocess.run([*GRADER.split(), "grade", str(subs), "-o", str(root / "out"), "--exercises", "ex01",
                            "--seed", "5", "--workers", "1", "--timeout", "20"],
                           capture_output=True, timeout=900, env=env)
    scope = root / "autograder"
    (scope / "submission").mkdir(parents=True)
    (scope / "submission" / "ex01_tensors.py").write_text(_hostile_source())
    (scope / "config.json").write_text(json.dumps({"exercises": ["ex01"], "call_timeout_s": 20}))
    gradescope = subprocess.run([sys.executable, "-m", "grader.instructor.gradescope", "--root", str(scope),
                                 "--config", str(scope / "config.json")], capture_output=True, timeout=600,
                                env=env)
    return {"check": check, "grade": grade, "gradescope": gradescope, "out": root / "out",
            "results": scope / "results" / "results.json"}


def test_grader_check_prints_learner_text_literally_and_without_escapes(graded):
    check = graded["check"]
    output = (check.stdout + check.stderr).decode("utf-8")
    assert check.returncode == 1, output  # checks failed, the grader did not
    assert "\x1b" not in output and "\x07" not in output, repr(output[:2000])
    assert_inert(output, "grader check")
    assert "your code raised Evil<b>: boom" in output  # the type name, less its escape sequence
    assert "[red]RED[/red] [link=http://evil.example]click[/link]" in output  # markup printed literally
    assert "| a | b |" in output and "onerror=alert(1)" in output
    assert "shape (15728640,)" in output  # the 60 MiB describe() result, summarised


def test_grader_grade_writes_inert_feedback_csv_and_json(graded):
    grade, out = graded["grade"], graded["out"]
    console = (grade.stdout + grade.stderr).decode("utf-8")
    assert grade.returncode == 0, console
    assert_inert(console, "grader grade")
    page = (out / "mallory" / "feedback.md").read_text("utf-8")
    _assert_feedback_page(page, attempted=1)
    assert "skipped IPython line 1 of cell 1" in page  # the note that used to swallow the table
    assert "onerror=alert\\(1\\)" in page or "onerror=alert(1)" in page
    zipped = (out / "zipped" / "feedback.md").read_text("utf-8")
    _assert_feedback_page(zipped, attempted=0)
    assert "leaves its folder" in zipped and "heading" in zipped
    for learner in ("mallory", "zipped"):
        for name in ("result.json", "results.json"):
            document = json.loads((out / learner / name).read_text("utf-8"))
            for text in _strings(document):
                assert_inert(text, f"{learner}/{name}")
    mallory = json.loads((out / "mallory" / "result.json").read_text("utf-8"))
    assert any("onerror=alert(1)" in t["feedback"] for e in mallory["exercises"] for t in e["tests"])
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert any("leaves its folder" in p["reason"] for p in summary["problems"])
    for text in _strings(summary):
        assert_inert(text, "summary.json")
    with open(out / "grades.csv", newline="", encoding="utf-8-sig") as stream:
        rows = {row["learner"]: row for row in csv.DictReader(stream) if row["learner"] != "Points Possible"}
    assert set(rows) == {"mallory", "zipped"}
    for row in rows.values():
        for cell in row.values():
            assert_inert(cell, "grades.csv")
            assert "\n" not in cell and not cell.startswith(("=", "+", "-", "@"))
    assert "leaves its folder" in rows["zipped"]["notes"] and "| a | b |" in rows["zipped"]["notes"]
    assert "Evil<b>: boom" in rows["mallory"]["notes"]


def test_gradescope_results_json_is_inert(graded):
    done = graded["gradescope"]
    assert done.returncode == 0, (done.stdout + done.stderr).decode()
    results = json.loads(graded["results"].read_text("utf-8"))
    assert results["tests"] and 0 < results["score"] < sum(t["max_score"] for t in results["tests"])
    for text in _strings(results):
        assert_inert(text, "results.json")
    assert any("onerror=alert(1)" in t["output"] and "[red]RED[/red]" in t["output"] for t in results["tests"])


def test_grader_list_shows_a_learners_file_name_literally(tmp_path):
    (tmp_path / f"ex01[red]RED{OSC52}{CLEAR}.py").write_text("def x(:\n")
    done = subprocess.run([*GRADER.split(), "list", "--dir", str(tmp_path)], capture_output=True, timeout=300,
                          env={**os.environ, **PYTHONPATH})
    output = done.stdout.decode("utf-8")
    assert done.returncode == 0, output + done.stderr.decode()
    assert "ex01[red]RED" in output and "syntax error" in output
    assert_inert(output, "grader list")
