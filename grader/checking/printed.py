"""What the learner's own code printed during one check, for the feedback of a failed check.

Beginners debug with print(). The child's stdout and stderr are captured (bounded) by
:class:`grader.engine.child.CapturedOutput`; the runner marks the capture before each check
(`output_mark`) and, when the check did not pass, takes what arrived since (`printed_since`).
The text is made inert here: terminal control characters become visible escapes, TensorFlow's
own start-up log lines are dropped, and it is capped at MAX_LINES lines and MAX_CHARS characters.
"""

from __future__ import annotations

import re
import time
from typing import Any

__all__ = ["MAX_CHARS", "MAX_LINES", "LABEL", "OutputMark", "output_mark", "printed_since", "clean_printed",
           "visible_printed"]

MAX_CHARS = 2000
MAX_LINES = 40
_SETTLE_S = 0.3  # the reader thread drains the pipe: wait for it to catch up, this long at most

# TensorFlow/absl log lines (not the learner's): "I0000 00:00:1796 123 port.cc:153] ..."
_FRAMEWORK_LOG = re.compile(
    r"^([IWEF]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\)"
    r"|To enable the following instructions: .* rebuild TensorFlow)"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069]")

OutputMark = tuple[Any, int]
LABEL = "what your code printed during this check"


def _data(child: Any) -> bytearray | None:
    data = getattr(getattr(child, "output", None), "data", None)
    return data if isinstance(data, bytearray) else None


def _current_child(session: Any) -> Any:
    return getattr(session, "_child", None)  # LearnerSession keeps its current child here


def output_mark(session: Any) -> OutputMark:
    """Where the child's captured output stands now (call before a check)."""
    child = _current_child(session)
    data = _data(child)
    return child, len(data) if data is not None else 0


def _settled(data: bytearray) -> bytes:
    """The buffer once the reader thread has stopped adding to it (the child flushes before replying)."""
    deadline = time.monotonic() + _SETTLE_S
    size = -1
    while len(data) != size and time.monotonic() < deadline:
        size = len(data)
        time.sleep(0.01)
    return bytes(data)


def printed_since(session: Any, mark: OutputMark) -> str:
    """What the learner's code printed since `mark`, cleaned and capped ("" when nothing)."""
    marked_child, start = mark
    child = _current_child(session)
    data = _data(child)
    chunks = []
    if marked_child is not None and marked_child is not child:  # restarted after a timeout or crash
        old = _data(marked_child)
        if old is not None:
            chunks.append(_settled(old)[start:])
        start = 0
    if data is not None:
        chunks.append(_settled(data)[start:])
    dropped = getattr(getattr(child, "output", None), "dropped", 0)
    text = clean_printed(b"".join(chunks).decode("utf-8", "replace"))
    if dropped and text:
        text += "\n[... your program printed more than the grader keeps]"
    return text


def clean_printed(text: str) -> str:
    """Learner output made safe to show: no framework log lines, no control characters, capped."""
    lines = [line for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
             if not _FRAMEWORK_LOG.match(line)]
    text = "\n".join(lines).strip("\n")
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else "?", text)
    text = text.expandtabs(4)
    lines = text.split("\n")
    cut = ""
    if len(lines) > MAX_LINES:
        cut = f"\n[... {len(lines) - MAX_LINES} more lines not shown]"
        lines = lines[:MAX_LINES]
    text = "\n".join(lines)
    if len(text) > MAX_CHARS:
        cut = f"\n[... {len(text) - MAX_CHARS} more characters not shown]" + cut
        text = text[:MAX_CHARS]
    return text + cut if text else ""


def visible_printed(test: Any, reveal_hidden: bool) -> str:
    """The learner's output for one check as they may see it: a hidden check's only when revealed."""
    return "" if test.visibility == "hidden" and not reveal_hidden else str(test.printed)
