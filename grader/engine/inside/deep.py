"""Run a function on a thread with a big stack and a high recursion limit (deeply nested source).

Python's default recursion limit refuses valid code such as a 20000-term ``1+1+...``; the
child's compiler and the parent's scanner both use this, so a grader limit never scores a
learner down. The parent may import it: it is plain, trusted code.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["on_big_stack"]

T = TypeVar("T")


def on_big_stack(work: Callable[[], T], stack_mb: int = 256, name: str = "deep-source") -> T:
    """`work()` on a thread with a `stack_mb` MiB stack; its exception is raised here."""
    result: dict[str, object] = {}

    def run() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 1_000_000))
        try:
            result["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed back to the calling thread
            result["error"] = exc
        finally:
            sys.setrecursionlimit(old)

    size = threading.stack_size()
    threading.stack_size(stack_mb * 1024 * 1024)
    try:
        thread = threading.Thread(target=run, name=name)
        thread.start()
    finally:
        threading.stack_size(size)
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]  # type: ignore[return-value]
