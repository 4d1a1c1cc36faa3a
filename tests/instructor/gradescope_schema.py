"""Gradescope's documented results.json fields and types, as one assertion helper for tests.

From Gradescope's "Autograder specifications" (results/results.json): top-level ``score``
(number), ``execution_time`` (number, seconds), ``output`` (string) and ``tests``, a list of
objects with ``name`` (string), ``score`` and ``max_score`` (numbers), ``output`` (string),
``visibility`` (one of visible, hidden, after_due_date, after_published) and an optional
``status`` (passed or failed); ``output_format`` (top level and per test) and
``test_output_format`` are one of text, html, simple_format, md, ansi when present.
"""

from __future__ import annotations

from typing import Any

VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def assert_gradescope_results(data: Any) -> None:
    assert isinstance(data, dict), "results.json must hold an object"
    assert _number(data["score"]), data["score"]
    assert _number(data["execution_time"]) and data["execution_time"] >= 0
    assert isinstance(data["output"], str)
    assert isinstance(data["tests"], list)
    for key in ("output_format", "test_output_format"):
        assert data.get(key, "text") in FORMATS, data[key]
    for test in data["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert _number(test["score"]) and _number(test["max_score"])
        assert 0 <= test["score"] <= test["max_score"]
        assert isinstance(test["output"], str)
        assert test["visibility"] in VISIBILITIES
        assert test.get("status", "passed") in ("passed", "failed")
        assert test.get("output_format", "text") in FORMATS, test["output_format"]
    if data["tests"]:
        assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) < 1e-6
