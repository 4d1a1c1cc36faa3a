"""An honest autograder for a Keras/TensorFlow deep-learning course.

Checks run in the trusted parent process; learner code runs in an isolated child
and only plain data crosses between them (see docs/architecture.md and docs/design.md).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
