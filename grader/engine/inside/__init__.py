"""Everything that runs inside the sandbox, next to learner code: the child's main loop, the wire
protocol, the named activations. It imports nothing of ``grader`` from outside this folder."""

from __future__ import annotations
