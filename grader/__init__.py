"""An honest autograder for a Keras/TensorFlow deep-learning course.

Checks run in the trusted parent process; learner code runs in an isolated child
and only plain data crosses between them (see docs/architecture.md and docs/design.md).

In a notebook: ``from grader import check; check("ex03")``, ``hint("ex03")``.
"""

from __future__ import annotations

import os
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "check", "hint", "notebook_imports"]


def check(exercise: str, dir: str | os.PathLike[str] = ".") -> None:  # noqa: A002
    """Check one exercise from a notebook (its folder is the current one): ``check("ex03")``."""
    from grader.checking.jupyter import check as run

    run(exercise, dir)


def hint(exercise: str, level: int = 1, dir: str | os.PathLike[str] = ".") -> None:  # noqa: A002
    """Hint `level` for the first failing check of `exercise`: ``hint("ex03")``, ``hint("ex03", 2)``."""
    from grader.checking.jupyter import hint as run

    run(exercise, level, dir)


def notebook_imports(*_: Any) -> None:
    """Let one exercise notebook import another (``from ex06_backprop import forward``)."""
    from grader.checking.jupyter import notebook_imports as install

    install()
