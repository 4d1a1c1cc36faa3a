"""Behaviour is pinned: the real CLI on solutions/, exercises/ and a fixed class gives the
outcomes recorded in tests/fixtures/behaviour_pin.json (regenerate: see tests/pin_behaviour.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import EXERCISES_DIR, SOLUTIONS
from pin_behaviour import PIN_FILE, check_snapshot, grade_snapshot

PINNED: dict[str, Any] = json.loads(PIN_FILE.read_text("utf-8"))


def _differences(pinned: list[list[Any]], now: list[list[Any]]) -> list[str]:
    lines = [f"- {row}" for row in pinned if row not in now] + [f"+ {row}" for row in now if row not in pinned]
    return lines or ["(same rows, another order)"]


def test_the_pin_is_not_vacuous() -> None:
    """The pin holds passes, failures and not-attempted checks, hidden ones and an ungraded learner."""
    statuses = {row[3] for part in ("check solutions/", "check exercises/") for row in PINNED[part]["tests"]}
    assert {"passed", "not_attempted"} <= statuses
    learners = PINNED["grade --seed 7"]["learners"]
    rows = [row for learner in learners.values() for row in learner["tests"]]
    assert {"passed", "failed", "not_attempted", "error"} <= {row[3] for row in rows}
    assert any(row[1] == "hidden" for row in rows)
    assert any(learner["grading"] == "ungraded" for learner in learners.values())


@pytest.mark.parametrize("part, folder", [("check solutions/", SOLUTIONS), ("check exercises/", EXERCISES_DIR)])
def test_grader_check_json_gives_the_pinned_outcomes(part: str, folder: Path) -> None:
    now = check_snapshot(folder)
    pinned = PINNED[part]
    assert now["tests"] == pinned["tests"], "\n".join(_differences(pinned["tests"], now["tests"]))
    assert now["exit_code"] == pinned["exit_code"]


def test_grader_grade_with_a_seed_gives_the_pinned_grades(tmp_path: Path) -> None:
    now = grade_snapshot(tmp_path)["learners"]
    pinned = PINNED["grade --seed 7"]["learners"]
    assert sorted(now) == sorted(pinned)
    for learner, expected in pinned.items():
        got = now[learner]
        assert got["tests"] == expected["tests"], f"{learner}:\n" + "\n".join(
            _differences(expected["tests"], got["tests"]))
        assert (got["grading"], got["reason"], got["points"]) == \
            (expected["grading"], expected["reason"], expected["points"]), learner
