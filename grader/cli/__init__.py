"""The ``grader`` command: a thin click group over the learner's and the instructor's commands."""

from __future__ import annotations
