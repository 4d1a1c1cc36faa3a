"""The course itself: the exercises registry, MNIST loading with checksums, the toy data."""

from __future__ import annotations
