"""Hints on demand, in levels, for the first check of an exercise that does not pass yet.

The hints are data beside the public checks: ``grader/checks/public/hints_exNN.json``::

    {"exercise": "ex03", "about": str,
     "checks": {"test_sigmoid": ["level 1", "level 2", "level 3 (a worked step in words)"], ...}}

keyed by the check's function name; levels go from the concept to a worked step in words,
never solution code. A check result carries the check's title (its docstring's first line),
so titles are mapped back to function names by reading the check modules (no import).

Every hint shown is recorded in the learner's exercise folder, ``.grader/hints.json``::

    {"hints": [{"exercise": "ex03", "check": "test_sigmoid", "title": str,
                "level": int, "levels": int, "status": Status, "time": "2026-12-01T10:00:00+00:00"}]}

so an instructor can see which hints were taken. Hints never change a score.
"""

from __future__ import annotations

import ast
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from grader.checking.outcomes import ExerciseResult, Status, TestResult
from grader.checking.runner import CHECKS_DIR

__all__ = ["Hint", "HintsMissing", "load_hints", "check_titles", "hint_for", "record_hint", "RECORD_PATH"]

RECORD_PATH = Path(".grader") / "hints.json"
MAX_RECORDS = 10_000


class HintsMissing(LookupError):
    """No hints are installed for this exercise or check."""


@dataclass(frozen=True)
class Hint:
    """One hint, as shown to the learner."""

    exercise: str
    check: str  # the check's function name, e.g. "test_sigmoid"
    title: str  # what the learner sees as the check's name
    status: Status
    level: int  # 1-based, after clamping to `levels`
    levels: int
    text: str
    feedback: str = ""  # the first line of the check's feedback, for context


def load_hints(exercise_id: str) -> dict[str, list[str]]:
    """{check function name: [level 1, level 2, ...]} for one exercise ({} when none are installed)."""
    path = CHECKS_DIR / "public" / f"hints_{exercise_id}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    checks = data.get("checks", {})
    return {str(name): [str(level) for level in levels] for name, levels in checks.items() if levels}


def check_titles(exercise_id: str) -> dict[str, str]:
    """{title shown in results: check function name} for the public checks of one exercise."""
    titles: dict[str, str] = {}
    for path in sorted((CHECKS_DIR / "public").glob(f"test_{exercise_id}*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                doc = ast.get_docstring(node)
                title = (doc.strip().splitlines()[0].rstrip(".") if doc and doc.strip()
                         else node.name.removeprefix("test_").replace("_", " "))
                titles[title] = node.name
    return titles


def _first_open(result: ExerciseResult) -> TestResult | None:
    """The first public check, in the order the checks ran, that did not pass."""
    return next((t for t in result.tests if t.visibility == "public" and t.status is not Status.PASSED), None)


def hint_for(result: ExerciseResult, level: int) -> Hint | None:
    """Hint `level` (1-based; clamped to the last) for the first public check that did not pass.

    None when every public check passed. Raises HintsMissing when that check has no hints.
    """
    test = _first_open(result)
    if test is None:
        return None
    check = check_titles(result.id).get(test.name)
    levels = load_hints(result.id).get(check or "", [])
    if check is None or not levels:
        raise HintsMissing(f"no hints are installed for the check “{test.name}” of {result.id}")
    chosen = min(max(level, 1), len(levels))
    feedback = test.feedback.strip().splitlines()[0] if test.feedback.strip() else ""
    return Hint(result.id, check, test.name, test.status, chosen, len(levels), levels[chosen - 1], feedback)


def record_hint(folder: Path, hint: Hint, now: datetime | None = None) -> Path:
    """Append `hint` to FOLDER/.grader/hints.json (written atomically); return that path.

    A damaged record is kept aside as hints.json.damaged and a new one is started.
    Raises OSError when the folder cannot be written.
    """
    path = Path(folder) / RECORD_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    records: list[object] = []
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            records = list(loaded["hints"])
        except (ValueError, KeyError, TypeError):
            os.replace(path, path.with_name(path.name + ".damaged"))
    stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    records.append({"exercise": hint.exercise, "check": hint.check, "title": hint.title,
                    "level": hint.level, "levels": hint.levels, "status": hint.status.value, "time": stamp})
    fd, temp = tempfile.mkstemp(prefix=".hints.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump({"hints": records[-MAX_RECORDS:]}, stream, indent=1)
    os.replace(temp, path)
    return path
