"""A failed check shows what the learner's own print() calls wrote during it: capped, inert, labelled."""

from __future__ import annotations

import io
from collections.abc import Callable

from rich.console import Console

from helpers import apply_mistake, solution_source
from grader.checking.job import LearnerResult
from grader.checking.outcomes import ExerciseResult, RunResult, Status, TestResult
from grader.checking.printed import LABEL, MAX_LINES, clean_printed, visible_printed
from grader.checking.terminal import render_terminal
from grader.instructor.gradebook import feedback_markdown, gradescope_results


def test_a_failed_check_carries_the_learners_prints_and_a_passed_one_does_not(
        grade: Callable[..., ExerciseResult]) -> None:
    source = apply_mistake(
        solution_source("ex03"),
        ("    return 1.0 / (1.0 + tf.exp(-x))",
         "    print('debug: sigmoid got shape', x.shape, '\\x1b[2J')\n    return 1.0 / (1.0 + tf.exp(x))"),
    )
    source = source.replace("def relu(x: tf.Tensor) -> tf.Tensor:\n",
                            "def relu(x: tf.Tensor) -> tf.Tensor:\n    for i in range(500):\n"
                            "        print('relu line', i)\n", 1)
    result = grade("ex03", source, hidden=False)
    by_name = {t.name.split("(")[0].split()[0]: t for t in result.tests}
    sigmoid = next(t for t in result.tests if t.name.startswith("sigmoid"))
    assert sigmoid.status is Status.FAILED
    assert "debug: sigmoid got shape" in sigmoid.printed
    assert "\x1b" not in sigmoid.printed and "\\x1b[2J" in sigmoid.printed, "terminal codes are made inert"
    assert "relu line" not in sigmoid.printed, "each check shows only its own output"
    passed = [t for t in result.tests if t.status is Status.PASSED]
    assert passed and all(t.printed == "" for t in passed), by_name.keys()
    assert TestResult.from_dict(sigmoid.to_dict()) == sigmoid

    console = Console(file=io.StringIO(), width=120, highlight=False)
    render_terminal(RunResult((result,)), console)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert f"{LABEL}:" in shown and "│ debug: sigmoid got shape" in shown


def test_output_is_capped_and_framework_noise_dropped() -> None:
    text = "\n".join(f"line {i}" for i in range(500))
    noise = ("I0000 00:00:1796120003.660765   15253 port.cc:153] oneDNN custom operations are on.\n"
             "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
    cleaned = clean_printed(noise + text)
    assert cleaned.startswith("line 0\n") and "oneDNN" not in cleaned
    assert len(cleaned.splitlines()) == MAX_LINES + 1 and "460 more lines not shown" in cleaned
    long = clean_printed("x" * 10_000)
    assert len(long) < 2100 and "more characters not shown" in long
    assert clean_printed("a\rb\x07\u202e") == "a\nb\\x07?"


def _result(visibility: str) -> RunResult:
    test = TestResult("ex03", "sigmoid values", visibility, 0.0, 2.0, Status.FAILED, "wrong values",
                      printed="my debug line")
    return RunResult((ExerciseResult("ex03", "Activations", (test,)),))


def test_hidden_checks_show_the_output_only_when_revealed_and_feedback_files_label_it() -> None:
    public, hidden = _result("public"), _result("hidden")
    assert visible_printed(hidden.exercises[0].tests[0], False) == ""
    assert visible_printed(hidden.exercises[0].tests[0], True) == "my debug line"
    page = feedback_markdown(LearnerResult("ann", public))
    assert "What your code printed during this check:" in page and "my debug line" in page
    assert "my debug line" not in feedback_markdown(LearnerResult("ann", hidden))
    [gradescope] = gradescope_results(public, 1.0)["tests"]
    assert f"{LABEL[0].upper()}{LABEL[1:]}:\n\n```text\nmy debug line\n```" in gradescope["output"]
