"""Inside the sandbox: a spawned child confines itself, reports how, then serves.

Run as ``python -s -m grader.engine.inside.enter IN_FD OUT_FD UID RLIMITS_JSON`` (UID ``-``:
keep the uid). Before the worker announces itself, the parent receives one frame
``{"confined": {...}}`` saying which limits failed to apply, so that a defence that
failed is reported as missing, not as active. A failed uid drop ends the child
before any learner code is loaded.
"""

from __future__ import annotations

import json
import sys

from grader.engine.inside import protocol
from grader.engine.inside.limits import confine

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    in_fd, out_fd = int(argv[0]), int(argv[1])
    uid = None if argv[2] == "-" else int(argv[2])
    try:
        report = confine(json.loads(argv[3]), uid)
    except OSError as exc:
        protocol.write_frame(out_fd, {"confined": {"error": str(exc)[:300]}})
        return 71
    protocol.write_frame(out_fd, {"confined": report})
    from grader.engine.inside.worker import serve

    return serve(in_fd, out_fd)


if __name__ == "__main__":
    sys.exit(main())
