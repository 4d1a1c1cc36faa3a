"""``grader grade --only LEARNER``: which learners of the class to regrade, by id or original name.

A name that is not in the class stops the batch before anything is graded, with the closest
names listed, so a typo never silently regrades nobody.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from grader.checking.inert import inert_line
from grader.instructor.intake import LearnerEntry

__all__ = ["SelectionProblem", "UnknownLearner", "split_names", "resolve_only", "check_seed"]


class SelectionProblem(Exception):
    """``--only`` cannot be done as asked; nothing was graded."""


class UnknownLearner(SelectionProblem):
    """A learner named with ``--only`` is not in SUBMISSIONS."""


def check_seed(seed: int, stored: str | None) -> None:
    """``--only`` regrades with the class's own hidden seed, or the rows would not be comparable."""
    if stored is not None and stored.strip().isdigit() and int(stored) != seed:
        raise SelectionProblem(f"--only regrades with this class's hidden seed ({stored.strip()}), but "
                               f"this run asks for {seed} (--seed or $GRADER_SEED). Drop it, or regrade "
                               "the whole class without --only.")


def split_names(values: Iterable[str]) -> tuple[str, ...]:
    """``--only a,b --only c`` -> ("a", "b", "c"), blanks dropped, order kept, no repeats."""
    names = [n.strip() for value in values for n in value.split(",")]
    return tuple(dict.fromkeys(n for n in names if n))


def resolve_only(selectors: tuple[str, ...], entries: list[LearnerEntry]) -> frozenset[str]:
    """The learner ids that `selectors` name: each an id, or a learner's original name.

    Raises :class:`UnknownLearner` listing every selector that matches nobody, with close matches.
    """
    by_id = {e.learner: e.learner for e in entries}
    by_name: dict[str, list[str]] = {}
    for entry in entries:
        if entry.name:
            by_name.setdefault(entry.name, []).append(entry.learner)
    chosen: set[str] = set()
    problems: list[str] = []
    candidates = sorted(set(by_id) | set(by_name))
    folded = {c.casefold(): c for c in candidates}
    for selector in selectors:
        if selector in by_id:
            chosen.add(selector)
        elif selector in by_name:
            chosen.update(by_name[selector])
        else:
            close = difflib.get_close_matches(selector.casefold(), list(folded), n=5, cutoff=0.5)
            hint = (f"; did you mean: {', '.join(inert_line(folded[c]) for c in close)}?" if close
                    else "; see OUT/grades.csv or OUT/roster.json for the learners' ids")
            problems.append(f"no learner {inert_line(selector)!r} in this class{hint}")
    if problems:
        raise UnknownLearner("--only: " + "\n--only: ".join(problems) + "\nNothing was graded.")
    return frozenset(chosen)
