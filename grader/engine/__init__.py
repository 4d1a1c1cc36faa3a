"""The parent's side of the trust boundary: start a sandboxed child, talk to it in plain data, own its time,
confirm it is gone. What runs inside the sandbox lives in :mod:`grader.engine.inside`."""

from __future__ import annotations
