"""Similar submissions are flagged for a person, never judged: renamed copies are found, honest
work that shares only the stub is not, scores do not move, and learner names stay inert."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import datetime

from helpers import solution_source, stub_source

from grader import __version__
from grader.instructor.similarity import find_similar, fingerprints, normalised_tokens

GRADER = shutil.which("grader") or f"{sys.executable} -m grader.cli.main"
XSS = "<img src=x onerror=alert(1)>"
TODO = "    # YOUR CODE HERE\n    raise NotImplementedError"


def _fill(exercise_id: str, *bodies: str) -> str:
    """The stub of `exercise_id` with its TODOs replaced, in order, by `bodies`."""
    source = stub_source(exercise_id)
    for body in bodies:
        assert TODO in source, f"the stub of {exercise_id} changed"
        source = source.replace(TODO, body, 1)
    return source


def _disguised(source: str) -> str:
    """A copy as a copier hides it: variables renamed, comments dropped, spacing changed."""
    for old, new in (("shifted", "centred"), ("exponentials", "e_x"), ("weighted_sum", "total")):
        source = source.replace(old, new)
    lines = [line for line in source.splitlines() if not line.lstrip().startswith("#")]
    return "\n\n".join(lines).replace(" - tf.reduce_max", "-tf.reduce_max") + "\n# my own work\n"


def test_a_renamed_copy_is_flagged():
    original = solution_source("ex03")
    groups = find_similar({"ann": {"ex03": original}, "ben": {"ex03": _disguised(original)}},
                          {"ex03": stub_source("ex03")}, ["ex03"])
    assert [(g.kind, g.learners) for g in groups] == [("near", ("ann", "ben"))]
    assert groups[0].share >= 0.9 and groups[0].shared >= 10


def test_the_same_code_with_other_comments_and_layout_is_identical():
    original = solution_source("ex02")
    copy = original.replace("    weighted_sum =", "    # mine\n    weighted_sum  =")
    groups = find_similar({"a": {"ex02": original}, "b": {"ex02": copy}, "c": {"ex02": copy}},
                          {"ex02": stub_source("ex02")}, ["ex02"])
    assert [(g.kind, g.learners) for g in groups] == [("identical", ("a", "b", "c"))]
    assert normalised_tokens(original, rename=False) == normalised_tokens(copy, rename=False)


def test_honest_work_sharing_only_the_stub_is_not_flagged():
    dan = solution_source("ex02")
    eve = _fill("ex02", "    return activation(tf.reduce_sum(w * x, 1, keepdims=True) + b)",
                "    return activation(tf.matmul(x, tf.transpose(w)) + b)")
    sources = {"dan": {"ex02": dan}, "eve": {"ex02": eve}}
    assert find_similar(sources, {"ex02": stub_source("ex02")}, ["ex02"]) == []
    # Proof that the stub is what they share: without subtracting it, they would be flagged.
    assert find_similar(sources, {}, ["ex02"]), "the test no longer shows the stub's weight"
    # Untouched stubs, and files too small to compare, are never a pair either.
    stubs = {"f": {"ex02": stub_source("ex02")}, "g": {"ex02": stub_source("ex02")}}
    assert find_similar(stubs, {"ex02": stub_source("ex02")}, ["ex02"]) == []


def test_fingerprints_ignore_names_comments_and_docstrings():
    a = 'def f(x):\n    """Doc."""\n    y = x * 2  # double\n    return y + 1\n'
    b = "def g(value):\n\n    result = value * 3\n    return result + 7\n"
    assert fingerprints(a) == fingerprints(b) and fingerprints(a)
    assert fingerprints(a) != fingerprints("def f(x):\n    return [x for x in range(3) if x]\n")
    assert normalised_tokens("x = (\n")[:3] == ["V", "=", "("]  # does not tokenise to the end


def test_the_report_lists_similar_work_by_link_and_scores_do_not_move(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    original = solution_source("ex03")
    for name, text in (("ann", original), (XSS, _disguised(original)), ("eve", stub_source("ex03")),
                       ("fay", stub_source("ex03"))):
        (subs / name).mkdir(parents=True)
        (subs / name / "ex03_activations.py").write_text(text)
    result = subprocess.run([*GRADER.split(), "grade", str(subs), "-o", str(out), "--exercises", "ex03",
                             "--workers", "2", "--seed", "11", "--timeout", "10"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(out / "grades.csv", newline="", encoding="utf-8-sig") as stream:
        rows = {r["learner"]: r for r in csv.DictReader(stream)}
    copier = next(k for k in rows if "img" in k)
    # Flagged, not judged: the copy keeps every point its outputs earn, as the original does.
    assert rows[copier]["total"] == rows["ann"]["total"] == rows["Points Possible"]["total"]
    summary = json.loads((out / "summary.json").read_text())
    assert [(g["kind"], sorted(g["learners"])) for g in summary["similarity"]] == [
        ("near", sorted(["ann", copier]))]
    page = (out / "report.html").read_text()
    section = page.split('id="similar"', 1)[1].split("<h2", 1)[0]
    assert 'href="#learner-ann"' in section and "eve" not in section and "fay" not in section
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in section
    # Reproducible: seed, grader version, sandbox defences and date, in summary.json and the report.
    provenance, meta = summary["provenance"], json.loads((out / "grades.meta.json").read_text())
    assert provenance["seed"] == "11" and provenance["grader_version"] == __version__
    assert provenance["defences"] == meta["defences"] and provenance["defences"]["active"]
    assert datetime.fromisoformat(provenance["written"]).tzinfo is not None
    line = page.split('id="provenance"', 1)[1].split("</span>", 1)[0]
    assert "hidden seed 11" in line and __version__ in line and provenance["written"] in line
    assert all(d in page for d in provenance["defences"]["active"])


def test_a_copy_is_still_found_in_a_class_where_the_common_lines_are_dropped():
    original = solution_source("ex03")
    cat = _fill("ex03", "    return 1 / (1 + tf.math.exp(-1.0 * x))", "    return tf.math.tanh(x)",
                "    return tf.where(x > 0, x, 0.0 * x)",
                "    top = tf.reduce_max(x, -1, True)\n    num = tf.exp(x - top)\n"
                "    return num / tf.reduce_sum(num, -1, True)")
    dan = _fill("ex03", "    e = tf.exp(x)\n    return e / (e + 1.0)", "    s = sigmoid(2 * x)\n    return s + s - 1",
                "    return tf.nn.relu(x)",
                "    m = tf.stop_gradient(tf.reduce_max(x, axis=-1, keepdims=True))\n"
                "    return tf.nn.softmax(x - m)")
    sources = {"ann": {"ex03": original}, "ben": {"ex03": _disguised(original)},
               "cat": {"ex03": cat}, "dan": {"ex03": dan}}
    groups = find_similar(sources, {"ex03": stub_source("ex03")}, ["ex03"])
    assert [g.learners for g in groups] == [("ann", "ben")], groups
