"""The public checks' fixtures stay in step with the solutions: regenerate and compare."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from grader.instructor import fixtures


def same(committed: Any, fresh: Any, where: str = "") -> None:
    """Equal structure and strings; numbers equal up to float32 round-off across machines."""
    if isinstance(committed, dict):
        assert isinstance(fresh, dict) and committed.keys() == fresh.keys(), where
        for key in committed:
            same(committed[key], fresh[key], f"{where}.{key}")
    elif isinstance(committed, list):
        assert isinstance(fresh, list) and len(committed) == len(fresh), where
        for index, (a, b) in enumerate(zip(committed, fresh, strict=True)):
            same(a, b, f"{where}[{index}]")
    elif isinstance(committed, float) or isinstance(fresh, float):
        assert isinstance(fresh, (int, float)) and not isinstance(fresh, bool), where
        assert math.isclose(committed, fresh, rel_tol=1e-6, abs_tol=1e-7), (where, committed, fresh)
    else:
        assert committed == fresh and type(committed) is type(fresh), (where, committed, fresh)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fixtures")
    fixtures.write(out)
    return out


@pytest.mark.parametrize("exercise_id", sorted(fixtures.BUILDERS))
def test_committed_fixture_matches_the_solutions(regenerated: Path, exercise_id: str) -> None:
    name = f"expected_{exercise_id}.json"
    committed = fixtures.DEFAULT_OUT / name
    assert committed.exists(), f"run `python -m grader.instructor.fixtures` to create {name}"
    fresh = json.loads((regenerated / name).read_text())
    same(json.loads(committed.read_text()), fresh, exercise_id)


def test_every_fixture_file_has_a_builder() -> None:
    files = {p.name for p in fixtures.DEFAULT_OUT.glob("expected_*.json")}
    assert files == {f"expected_{e}.json" for e in fixtures.BUILDERS}


def test_fixtures_hold_only_finite_json() -> None:
    def refuse(constant: str) -> None:
        raise AssertionError(f"a fixture holds {constant}; JSON fixtures must be finite")

    for path in fixtures.DEFAULT_OUT.glob("expected_*.json"):
        json.loads(path.read_text(), parse_constant=refuse)
