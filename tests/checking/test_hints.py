"""Hints on demand: every public check has levels of hints, none gives the solution code,
the first hint of a typical mistake names that mistake's concept, and `grader hint` works end to end."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import apply_mistake, solution_source, stub_source
from grader.checking.hints import check_titles, hint_for, load_hints
from grader.checking.outcomes import ExerciseResult
from grader.cli.main import cli
from grader.course.exercises import EXERCISES, PROJECT_ROOT, find_exercise


def _solution_code(exercise_id: str) -> set[str]:
    """Every statement line of the solution's function bodies, and the expressions they compute,
    except what the learner's lesson file already shows (e.g. `list("tensor")` in a docstring)."""
    source = solution_source(exercise_id)
    pieces: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for statement in ast.walk(node):
            if isinstance(statement, ast.stmt) and not isinstance(statement, ast.FunctionDef):
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    continue  # a docstring is lesson text, not code
                for line in (ast.get_source_segment(source, statement) or "").splitlines():
                    pieces.add(line.strip())
            if isinstance(statement, (ast.Return, ast.Assign)) and statement.value is not None:
                pieces.add((ast.get_source_segment(source, statement.value) or "").strip())
    lesson = stub_source(exercise_id)
    return {p for p in pieces if len(p) >= 12 and p not in lesson}


@pytest.mark.parametrize("exercise", [e.id for e in EXERCISES])
def test_every_public_check_has_hints_in_levels(exercise: str) -> None:
    titles = check_titles(exercise)
    hints = load_hints(exercise)
    assert titles, f"{exercise} has public checks"
    names = set(titles.values())
    assert len(titles) == len(names), "two checks of one exercise share a title: hints would be ambiguous"
    assert set(hints) == names, f"checks without hints: {names - set(hints)}; hints for no check: {set(hints) - names}"
    for name, levels in hints.items():
        assert len(levels) >= 2, f"{exercise} {name}: at least two levels"
        assert all(len(text) >= 60 for text in levels), f"{exercise} {name}: a hint a beginner can act on"
        assert len(set(levels)) == len(levels)


@pytest.mark.parametrize("exercise", [e.id for e in EXERCISES])
def test_no_hint_contains_solution_code(exercise: str) -> None:
    code = _solution_code(exercise)
    assert len(code) >= 2, "the comparison must have something to compare"
    for name, levels in load_hints(exercise).items():
        for number, text in enumerate(levels, start=1):
            leaked = [line for line in code if line in text]
            assert not leaked, f"{exercise} {name} level {number} gives away solution code: {leaked}"
        assert levels[-1].startswith("Worked step"), f"{exercise} {name}: the last level is a worked step"


# A typical mistake per exercise, and a word of its concept that the first hint must name.
TYPICAL = {
    "ex01": ([("flat = tf.constant(digits, dtype=tf.int32)\n    return tf.reshape(flat, (6, 4))",
               "return tf.reshape(tf.constant(list(PI_DIGITS[:24])), (6, 4))")], "int32"),
    "ex02": ([("weighted_sum = tf.reduce_sum(x * w, axis=1, keepdims=True) + b\n    return activation(weighted_sum)",
               "return activation(tf.reduce_sum(x * w, axis=1, keepdims=True)) + b")], "after the activation"),
    "ex03": ([("return 1.0 / (1.0 + tf.exp(-x))", "return 1.0 / (1.0 + tf.exp(x))")], "minus sign"),
    "ex04": ([("output = dense(output, W, b, activation)", "output = dense(x, W, b, activation)")],
             "input of the next"),
    "ex05": ([("shifted = x - tf.reduce_max(x, axis=-1, keepdims=True)\n    return shifted - tf.math.log(",
               "return tf.math.log(stable_softmax(x))\n    shifted = x\n    return shifted - tf.math.log(")],
             "log(0) = -inf"),
    "ex06": ([("dL1 = dS * S * (1.0 - S)", "dL1 = dS")], "slope"),
    "ex07": ([("params[key] - lr * grads[key]", "params[key] + lr * grads[key]")], "against the gradient"),
    "ex08": ([("loss=keras.losses.SparseCategoricalCrossentropy(", "loss=keras.losses.CategoricalCrossentropy(")],
             "sparse categorical cross-entropy"),
}


def test_every_exercise_has_a_typical_mistake_for_its_hints() -> None:
    assert set(TYPICAL) == {e.id for e in EXERCISES}


@pytest.mark.parametrize("exercise", sorted(TYPICAL))
def test_first_hint_of_a_typical_mistake_names_its_concept(exercise: str,
                                                           grade: Callable[..., ExerciseResult]) -> None:
    replacements, concept = TYPICAL[exercise]
    extra = {"ex06": solution_source("ex06")} if exercise == "ex07" else None
    result = grade(exercise, apply_mistake(solution_source(exercise), *replacements), extra=extra, hidden=False)
    hint = hint_for(result, 1)
    assert hint is not None, "the mistake must make a public check fail"
    assert concept in hint.text, f"{exercise}: first failing check {hint.title!r}, hint: {hint.text}"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def test_grader_hint_end_to_end_levels_record_and_the_score_is_unchanged(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / find_exercise("ex03").filename).write_text(
        apply_mistake(solution_source("ex03"), ("return 1.0 / (1.0 + tf.exp(-x))", "return 1.0 / (1.0 + tf.exp(x))")))
    before = CliRunner().invoke(cli, ["check", "ex03", "--json", "--dir", str(folder)])
    first = subprocess.run([sys.executable, "-m", "grader.cli.main", "hint", "ex03", "--dir", str(folder)],
                           env=_env(), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    levels = load_hints("ex03")["test_sigmoid"]
    assert f"hint 1 of {len(levels)}" in first.stdout and "minus sign" in first.stdout
    assert "grader hint ex03 --level 2" in first.stdout and "Traceback" not in first.stderr
    deepest = CliRunner().invoke(cli, ["hint", "ex03", "--level", "9", "--dir", str(folder)])
    assert deepest.exit_code == 0, deepest.output
    assert f"hint {len(levels)} of {len(levels)} (there are only {len(levels)} levels)" in deepest.output
    assert levels[-1][:40] in " ".join(deepest.output.split())
    records = json.loads((folder / ".grader" / "hints.json").read_text())["hints"]
    assert [(r["exercise"], r["check"], r["level"]) for r in records] == [
        ("ex03", "test_sigmoid", 1), ("ex03", "test_sigmoid", len(levels))]
    after = CliRunner().invoke(cli, ["check", "ex03", "--json", "--dir", str(folder)])
    score = [json.loads(r.output)["points"] for r in (before, after)]
    assert score[0] == score[1] and 0 < score[0] < json.loads(after.output)["max_points"]


@pytest.mark.parametrize("argv, words", [
    (["hint", "ex99"], "unknown exercise"),
    (["hint", "ex03", "--level", "0"], "--level"),
    (["hint"], "Missing argument"),
])
def test_bad_hint_input_is_a_usage_error(argv: list[str], words: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [*argv, "--dir", str(tmp_path)] if len(argv) > 1 else argv)
    assert result.exit_code == 2 and words in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)


def test_hint_help_explains_levels_and_recording() -> None:
    result = CliRunner().invoke(cli, ["hint", "--help"])
    assert result.exit_code == 0
    for words in ("--level", "worked step", "hints.json", "never change your score", 'hint("ex03")'):
        assert words in result.output
