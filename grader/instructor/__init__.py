"""The instructor's pipeline: discover a class, grade it in parallel, journal, gradebook, summary,
Gradescope and the learner release. Never shipped to learners."""

from __future__ import annotations
