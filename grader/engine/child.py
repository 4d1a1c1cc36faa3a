"""The parent's side of the child: start it, call the learner's functions, enforce time.

The parent owns time. Every call has a deadline; when it passes, the parent
kills the child's whole process group and reports a timeout. Nothing the child
sends is executed: replies are decoded by :mod:`grader.engine.inside.protocol`.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from grader.engine.errors import CallTimeout, ChildCrashed, LearnerError, SandboxError
from grader.engine.inside import protocol
from grader.engine.launch import LaunchSpec, Policy, demote, demote_rlimits, launch_spec
from grader.engine.reap import ChildLingers, ChildProcess, SpawnedProcess
from grader.engine.zygote import ForkedChild, warm_zygote

__all__ = ["readable_message", "Child", "LearnerError", "CallTimeout", "ChildCrashed", "SandboxError",
           "ChildLingers", "CapturedOutput", "kill_all_children"]


def readable_message(message: str) -> str:
    """A learner's exception message without TensorFlow's internal decoration.

    TensorFlow wraps op errors as ``{{function_node __wrapped__Sub...}} Incompatible
    shapes: [3,2] vs. [2,3] [Op:Sub] name:``; the learner needs the middle part.
    """
    message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", message)
    return re.sub(r"\s*\[Op:\w+\](\s*name:\s*\S*)?\s*$", "", message, flags=re.MULTILINE).strip()


class CapturedOutput:
    """Drains a pipe into a bounded buffer: the first `limit` bytes are kept."""

    def __init__(self, fd: int, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.dropped = 0
        self._thread = threading.Thread(target=self._drain, args=(fd,), daemon=True)
        self._thread.start()

    def _drain(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                room = self.limit - len(self.data)
                self.data += chunk[: max(room, 0)]
                self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        self._thread.join(timeout=1.0)
        out = self.data.decode("utf-8", "replace")
        if self.dropped:
            out += f"\n[... {self.dropped} more bytes of output were cut]"
        return out


# Live children, so that Ctrl-C, SIGTERM or the end of the grader never leaves one behind.
_LIVE: set[Child] = set()
_HANDLED: dict[int, Any] = {}
_INSTALLED: list[bool] = []


def kill_all_children() -> None:
    """Close every live child: all their processes killed (confirmed), scratch directories removed."""
    for child in list(_LIVE):
        try:
            child.close()
        except ChildLingers:
            pass  # already said by close(); nothing more can be done at exit


def _on_signal(signum: int, frame: Any) -> None:
    kill_all_children()
    previous = _HANDLED.get(signum)
    if callable(previous):
        previous(signum, frame)
    else:  # SIG_DFL: die of the same signal, as if we had not been here
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _install_handlers() -> None:
    """Once, from the main thread: chain SIGTERM/SIGINT/SIGHUP handlers that kill live children."""
    if _INSTALLED or threading.current_thread() is not threading.main_thread():
        return
    _INSTALLED.append(True)
    atexit.register(kill_all_children)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        try:
            previous = signal.getsignal(signum)
            if previous not in (signal.SIG_IGN, None):  # ignored stays ignored (pool workers)
                _HANDLED[signum] = previous
                signal.signal(signum, _on_signal)
        except (ValueError, OSError):
            _HANDLED.pop(signum, None)


def _signal_reason(returncode: int | None, spec: LaunchSpec | None = None, oom: bool = False) -> str:
    if oom:
        limit = f" (more than {spec.memory_mb} MiB)" if spec is not None and spec.memory_mb else ""
        return f"it used too much memory{limit} and was stopped"
    if returncode is None:
        return "the program stopped answering"
    sig = spec.exit_signal(returncode) if spec is not None else (-returncode if returncode < 0 else None)
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        reasons = {
            "SIGSEGV": "a crash inside a compiled library, or a recursion far too deep (segmentation fault)",
            "SIGKILL": "it was killed, most often for using too much memory",
            "SIGXCPU": "it used more CPU time than allowed",
            "SIGXFSZ": "it tried to write a file larger than allowed",
            "SIGABRT": "a library aborted the program (often: it could not get more memory or threads)",
        }
        return reasons.get(name, f"it was stopped by signal {name}")
    return f"the program exited with status {returncode} (did your code call sys.exit or os._exit?)"


_CGROUP_DEFENCES = {"memory": "memory limit (cgroup", "pids": "process and thread limit (cgroup"}


class Child:
    """One learner's child process: sources in, plain values out.

    `kill()` stops it at once (safe from a signal handler); `close()` kills it too and
    returns only when no process of it is left, then removes what it held.
    """

    def __init__(self, sources: dict[str, dict[str, str]], policy: Policy) -> None:
        self.policy = policy
        self.scratch = Path(tempfile.mkdtemp(prefix="grader-child-"))
        os.chmod(self.scratch, 0o777)
        parent_to_child_r, parent_to_child_w = os.pipe()
        child_to_parent_r, child_to_parent_w = os.pipe()
        output_r, output_w = os.pipe()
        spec = launch_spec(policy, self.scratch, parent_to_child_r, child_to_parent_w)
        self._spec = spec
        self.defences, self.missing = list(spec.defences), list(spec.missing)
        self.out_of_memory = False
        self.started = time.monotonic()
        _install_handlers()
        zygote = warm_zygote(policy)
        self.process: ChildProcess
        try:
            if zygote is not None:
                fds = (parent_to_child_r, child_to_parent_w, output_w)
                self.process = ForkedChild(zygote, fds, spec, policy)
                self.defences += ["fresh process forked from a warm zygote",
                                  "private scratch tmpfs (size and inode caps), freed by the kernel"]
            else:
                self.process = SpawnedProcess(spec, subprocess.Popen(
                    spec.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=output_w,
                    stderr=output_w,
                    cwd=spec.cwd,
                    env=spec.env,
                    pass_fds=(parent_to_child_r, child_to_parent_w),
                    start_new_session=True,
                    preexec_fn=spec.preexec_fn,
                ))
        except BaseException:
            for fd in (parent_to_child_w, child_to_parent_r, output_r):
                os.close(fd)
            spec.release()
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise
        finally:
            for fd in (parent_to_child_r, child_to_parent_w, output_w):
                os.close(fd)
        self.output = CapturedOutput(output_r, policy.limits.output_kb * 1024)
        self._to_child = parent_to_child_w
        os.set_blocking(parent_to_child_w, False)  # writes keep the deadline (see _send)
        self._reader = protocol.FrameReader(child_to_parent_r)
        self._from_child = child_to_parent_r
        self._ready = False
        self._closed = False
        self._next_id = 0
        self.alive = True
        _LIVE.add(self)
        self._send({"op": "load", "sources": sources}, None,
                   self.started + policy.limits.startup_timeout_s, "loading your files")

    # ------------------------------------------------------------ plumbing

    def _send(self, header: dict[str, Any], blobs: list[bytes] | None, deadline: float,
              doing: str) -> None:
        """Write a request; a child that stops reading (e.g. SIGSTOP) cannot block us forever."""
        try:
            protocol.write_frame(self._to_child, header, blobs, deadline)
        except protocol.FrameTimeout:
            self.close()
            raise CallTimeout(doing) from None
        except (BrokenPipeError, OSError):
            raise self._crashed() from None

    def _crashed(self) -> ChildCrashed:
        # the pipe closed: give the process a moment to exit, so that its status is its own
        returncode = self.process.wait(timeout=1.0)
        self.close()
        return ChildCrashed(_signal_reason(returncode, self._spec, self.out_of_memory))

    def _confined(self, deadline: float) -> None:
        """The child's own report on its limits: a defence that failed is listed as missing."""
        header = self._receive(deadline, "starting Python and TensorFlow")
        report = header.get("confined")
        if type(report) is not dict or "error" in report:
            self.close()
            why = report.get("error") if type(report) is dict else "no report"
            raise SandboxError(f"the learner's child could not be confined: {why}")
        failed = report.get("rlimits_failed")
        demote_rlimits(self.defences, self.missing, [str(f) for f in failed] if type(failed) is list else [])
        for controller in self.process.started():  # before any learner code runs (on the first call)
            demote(self.defences, self.missing, _CGROUP_DEFENCES.get(controller, controller),
                   f"the child could not be moved into its {controller} cgroup")

    def _await_ready(self) -> None:
        if self._ready:
            return
        deadline = self.started + self.policy.limits.startup_timeout_s
        self._confined(deadline)
        header = self._receive(deadline, "starting Python and TensorFlow")
        if header.get("ready") is not True:
            self.close()
            raise ChildCrashed("the program printed something that is not a valid message")
        self._ready = True
        load_reply = self._receive(time.monotonic() + 30, "loading your files")
        if load_reply.get("ok") is not True:
            self.close()
            raise ChildCrashed("your files could not be loaded")

    def _receive(self, deadline: float, doing: str) -> dict[str, Any]:
        return self._read(deadline, doing)[0]

    def _read(self, deadline: float, doing: str) -> tuple[dict[str, Any], list[bytes]]:
        try:
            return self._reader.read_frame(deadline)
        except protocol.FrameTimeout:
            self.close()
            raise CallTimeout(doing) from None
        except protocol.ChildGone:
            raise self._crashed() from None
        except protocol.ProtocolError as exc:
            self.close()
            raise ChildCrashed(f"the program sent a malformed message ({exc})") from None

    # ------------------------------------------------------------ public

    def call(
        self,
        module: str,
        function: str,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        tensors: bool = True,
        seed: int | None = None,
        handle: protocol.Handle | None = None,
        op: str = "call",
    ) -> Any:
        """Call `module.function(*args, **kwargs)` (or a method of `handle`) in the child.

        `op="export"` asks for `handle` (a Keras model) as plain data instead (see
        ``inside.worker.export_model``); `kwargs` then carry its options."""
        if not self.alive:
            raise ChildCrashed("the program is no longer running")
        self._await_ready()
        blobs: list[bytes] = []
        self._next_id += 1
        request = {
            "op": op,
            "id": self._next_id,
            "module": module,
            "function": function,
            "handle": handle.id if handle is not None else None,
            "args": protocol.encode_value(tuple(args), blobs),
            "kwargs": protocol.encode_value(dict(kwargs or {}), blobs),
            "tensors": tensors,
            "seed": seed,
        }
        budget = self.policy.limits.call_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + budget
        self._send(request, blobs, deadline, f"{module}.{function}")
        header, reply_blobs = self._read(deadline, f"{module}.{function}")
        if header.get("id") != self._next_id or type(header.get("ok")) is not bool:
            self.close()
            raise ChildCrashed("the program sent a reply that does not match the question")
        tripped = header.get("tripped")
        self.tripped = tuple(str(t)[:100] for t in tripped[:40]) if type(tripped) is list else ()
        if not header["ok"]:
            raise self._learner_error(header.get("error"))
        try:
            return protocol.decode_value(header.get("value"), reply_blobs)
        except protocol.ProtocolError as exc:
            self.close()
            raise ChildCrashed(f"the program sent a malformed value ({exc})") from None

    def _learner_error(self, raw_error: Any) -> LearnerError:
        """The child's report of a learner exception, as plain, bounded data."""
        error: dict[str, Any] = raw_error if type(raw_error) is dict else {}
        raw_trace = error.get("traceback")
        trace: list[Any] = raw_trace if type(raw_trace) is list else []
        type_name = str(error.get("type", "Error"))[:100]
        message = readable_message(str(error.get("message", ""))[:2000])
        if type_name in ("MemoryError", "ResourceExhaustedError"):
            message += f" (your code used too much memory: the limit is {self._spec.memory_mb} MiB)"
        return LearnerError(type_name, message, [str(line)[:300] for line in trace[:8]],
                            str(error.get("phase", "call")))

    def kill(self) -> None:
        """SIGKILL every process of the child now, without waiting (safe from a signal handler)."""
        if self.alive:
            self.alive = False
            self.out_of_memory = self._spec.out_of_memory()
        self.process.kill()

    def close(self) -> None:
        """Kill the child and return only when no process of it is left (raises ChildLingers
        otherwise); then close its pipes, release its cgroup and remove its scratch directory."""
        if self._closed:
            return
        self.kill()
        self._closed = True
        try:
            self.process.close()
        finally:
            for fd in (self._to_child, self._from_child):
                try:
                    os.close(fd)
                except OSError:
                    pass
            _LIVE.discard(self)
            shutil.rmtree(self.scratch, ignore_errors=True)
