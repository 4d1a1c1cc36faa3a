"""The class summary (instructor/summary.py `summarise`) from made-up results, no batch."""

from __future__ import annotations

from grader.checking.job import LearnerResult
from grader.checking.outcomes import ExerciseResult, RunResult, Status, TestResult
from grader.instructor.summary import summarise


def _learner(name: str, ex02: list[Status], ex03: list[Status], reason: str = "") -> LearnerResult:
    def exercise(exercise_id: str, statuses: list[Status]) -> ExerciseResult:
        tests = tuple(TestResult(exercise_id, f"check {i}", "hidden" if i == 1 else "public",
                                 2.0 if s is Status.PASSED else 0.0, 2.0, s) for i, s in enumerate(statuses))
        return ExerciseResult(exercise_id, exercise_id.upper(), tests)

    return LearnerResult(name, RunResult((exercise("ex02", ex02), exercise("ex03", ex03))), reason)


P, F, N = Status.PASSED, Status.FAILED, Status.NOT_ATTEMPTED
CLASS = [
    _learner("ann", [P, P], [P, P]),        # 8 points
    _learner("bo", [P, F], [N, N]),         # 2 points, ex03 never attempted
    _learner("cy", [N, N], [N, N], "no exercise files were found"),  # 0 points
]


def test_scores_and_histogram() -> None:
    summary = summarise(4, CLASS, ["ex02", "ex03"])
    assert (summary["learners"], summary["graded"], summary["max_points"]) == (4, 3, 8.0)
    assert summary["scores"] == {"mean": round(10 / 3, 3), "median": 2.0, "min": 0.0, "max": 8.0}
    assert summary["histogram"]["edges"][0] == 0.0 and summary["histogram"]["edges"][-1] == 8.0
    assert sum(summary["histogram"]["counts"]) == 3
    assert summary["histogram"]["counts"][0] == 1 and summary["histogram"]["counts"][-1] == 1


def test_exercise_rates_count_attempts_apart() -> None:
    ex02, ex03 = summarise(3, CLASS, ["ex02", "ex03"])["exercises"]
    assert (ex02["attempted"], ex02["pass_rate"], ex02["pass_rate_attempted"]) == (2, round(1 / 3, 3), 0.5)
    assert (ex03["attempted"], ex03["pass_rate"], ex03["pass_rate_attempted"]) == (1, round(1 / 3, 3), 1.0)
    assert ex02["mean_points"] == round(6 / 3, 3) and ex02["title"] == "EX02"


def test_checks_hardest_first_and_not_attempted_learners_do_not_count() -> None:
    checks = summarise(3, CLASS, ["ex02", "ex03"])["checks"]
    first = checks[0]
    assert (first["exercise"], first["name"], first["visibility"]) == ("ex02", "check 1", "hidden")
    assert (first["passed"], first["count"], first["pass_rate"]) == (1, 2, 0.5)
    ex03 = [c for c in checks if c["exercise"] == "ex03"]
    assert all(c["count"] == 1 and c["pass_rate"] == 1.0 for c in ex03), ex03
    assert [c["pass_rate"] for c in checks] == sorted(c["pass_rate"] for c in checks)


def test_problems_and_only_the_chosen_exercises() -> None:
    summary = summarise(3, CLASS, ["ex02"])
    assert summary["problems"] == [{"learner": "cy", "reason": "no exercise files were found"}]
    assert summary["max_points"] == 4.0 and [e["id"] for e in summary["exercises"]] == ["ex02"]
    assert {c["exercise"] for c in summary["checks"]} == {"ex02"}


def test_an_empty_class() -> None:
    summary = summarise(0, [], ["ex02"])
    assert summary["graded"] == 0 and summary["scores"]["mean"] == 0.0 and summary["checks"] == []
