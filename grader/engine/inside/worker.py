"""The child process: imports a learner's files and serves calls from the parent.

Run as ``python -m grader.engine.inside.worker IN_FD OUT_FD``. Everything here is untrusted
territory: the learner's code shares this process, so the parent believes
nothing but the plain data it receives and checks it itself.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import time
import traceback
from types import ModuleType
from typing import Any

import numpy as np

from grader.engine.inside import protocol
from grader.engine.inside.convert import to_arguments, to_plain
from grader.engine.inside.deep import on_big_stack
from grader.engine.inside.models import describe, export_model

__all__ = ["main", "serve", "describe", "preload", "export_model"]

_BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
tf: Any = None


def preload() -> None:
    """Import the framework now (a zygote does this once, before forking children)."""
    _import_framework()


def _import_framework() -> None:
    """Pay the framework import up front, while the parent is still loading."""
    global tf
    if tf is None and _BACKEND == "tensorflow":
        try:
            import tensorflow

            tf = tensorflow
        except ImportError:
            tf = None


class _SourceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the learner's modules from sources sent over the pipe (never from disk)."""

    def __init__(self, sources: dict[str, dict[str, str]]) -> None:
        self.sources = sources

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001
        if fullname in self.sources:
            return importlib.util.spec_from_loader(fullname, self, origin=self.filename(fullname))
        return None

    def filename(self, name: str) -> str:
        return self.sources[name].get("filename", name + ".py")

    def create_module(self, spec):  # noqa: ANN001
        return None

    def get_source(self, fullname: str) -> str | None:
        """The learner's own source, so that their traceback shows their code lines (linecache)."""
        return self.sources[fullname]["source"] if fullname in self.sources else None

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        module.__file__ = self.filename(name)
        code = compile_deep(self.sources[name]["source"], self.filename(name))
        exec(code, module.__dict__)


def compile_deep(source: str, filename: str) -> Any:
    """compile(), with a big stack for deeply nested code (a 20000-term `1+1+...`).

    Python's default recursion limit refuses such code although it is valid; the parent's
    scanner accepts it the same way, so a grader limit never scores a learner down.
    """
    try:
        return compile(source, filename, "exec")
    except RecursionError:
        pass
    return on_big_stack(lambda: compile(source, filename, "exec"), 64, "compile-deep-source")


class _Handles:
    """Objects that cannot cross stay here; the parent refers to them by number."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}

    def add(self, value: Any) -> dict[str, Any]:
        number = len(self.objects) + 1
        self.objects[number] = value
        return {"$": "handle", "id": number, "type": type(value).__name__, "desc": describe(value)}

    def resolve(self, data: dict[str, Any]) -> Any:
        if data["$"] == "activation":
            from grader.engine.inside.activations import resolve_activation

            return resolve_activation(str(data.get("name")))
        return self.objects[int(data["id"])]


def _serve_export(request: dict[str, Any], blobs: list[bytes], state: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
    """The "export" op: a model handle as plain data (see export_model)."""
    filenames = state.get("filenames", set())
    try:
        target = state["handles"].objects[int(request["handle"])]
        options = protocol.decode_value(request["kwargs"], blobs, state["handles"].resolve)
        value = export_model(target, int(options.get("max_values", 0)))
        out: list[bytes] = []
        encoded = protocol.encode_value(value, out)
    except BaseException as exc:  # noqa: BLE001 - the learner's model or layers raised
        return {"ok": False, "error": _error(exc, "call", filenames)}, []
    return {"ok": True, "value": encoded}, out


def _learner_traceback(exc: BaseException, filenames: set[str]) -> list[str]:
    """Only the learner's own frames: the grader's are noise to them."""
    frames = traceback.extract_tb(exc.__traceback__)
    lines = [f'File "{f.filename}", line {f.lineno}, in {f.name}: {f.line or ""}'.rstrip()
             for f in frames if f.filename in filenames]
    if isinstance(exc, SyntaxError) and exc.filename in filenames:
        lines.append(f'File "{exc.filename}", line {exc.lineno}: {(exc.text or "").strip()}')
    return lines


def _error(exc: BaseException, phase: str, filenames: set[str]) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "traceback": _learner_traceback(exc, filenames)[-8:],
        "phase": phase,
    }


def _serve(request: dict[str, Any], blobs: list[bytes], state: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
    handles: _Handles = state["handles"]
    op = request.get("op")
    if op == "load":
        _install_tripwire(state)
        finder = _SourceFinder(request["sources"])
        sys.meta_path.insert(0, finder)
        state["filenames"] = {finder.filename(n) for n in request["sources"]}
        return {"ok": True}, []
    if op == "export":
        return _serve_export(request, blobs, state)
    if op == "call":
        filenames = state.get("filenames", set())
        try:
            module = importlib.import_module(request["module"])
        except BaseException as exc:  # noqa: BLE001 - anything the learner's import raises
            return {"ok": False, "error": _error(exc, "import", filenames)}, []
        if request.get("handle") is not None:
            target = handles.objects.get(int(request["handle"]))
            function = getattr(target, request["function"], None)
        else:
            function = getattr(module, request["function"], None)
        if not callable(function):
            return {"ok": False, "error": {"type": "MissingFunction", "message": request["function"],
                                            "traceback": [], "phase": "import"}}, []
        try:
            framework = tf if request.get("tensors", True) else None  # tensors=False: numpy stays numpy
            args = to_arguments(protocol.decode_value(request["args"], blobs, handles.resolve), framework)
            kwargs = to_arguments(protocol.decode_value(request["kwargs"], blobs, handles.resolve), framework)
        except Exception as exc:  # noqa: BLE001 - e.g. a model from a program that was restarted
            return {"ok": False, "error": _error(exc, "arguments", filenames)}, []
        if request.get("seed") is not None:
            _seed(int(request["seed"]))
        from grader.engine.inside import tripwire

        started = time.monotonic()
        try:
            with tripwire.graded() as used:
                value = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - learner errors become data
            return {"ok": False, "error": _error(exc, "call", filenames), "tripped": sorted(used)}, []
        if request.get("handle") is None:  # the same input, traced: ready-made ops (opcheck.py)
            from grader.engine.inside import opcheck

            watch = opcheck.watched_ops(str(request["module"]), str(request["function"]))
            # a trace never makes a slow call time out, nor traces a huge or non-tensor result
            if time.monotonic() - started < opcheck.MAX_CALL_S and opcheck.worth_tracing(value):
                used = set(used) | {f"tensorflow.raw_ops.{op}" for op in opcheck.ops_used(function, args, kwargs, watch)}
        out: list[bytes] = []
        try:
            encoded = protocol.encode_value(to_plain(value, tf), out, fallback=handles.add)
        except Exception as exc:  # noqa: BLE001
            return {"ok": False, "error": _error(exc, "result", filenames)}, []
        return {"ok": True, "value": encoded, "tripped": sorted(used)}, out
    return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}",
                                    "traceback": [], "phase": "call"}}, []


def _install_tripwire(state: dict[str, Any]) -> None:
    """Before any learner code runs: the ready-made functions record their use (tripwire.py)."""
    if not state.get("tripwire") and tf is not None:
        from grader.engine.inside import tripwire

        tripwire.install()
        state["tripwire"] = True


def _seed(seed: int) -> None:
    np.random.seed(seed)
    if "keras" in sys.modules or _BACKEND != "tensorflow":
        import keras

        keras.utils.set_random_seed(seed)
    elif tf is not None:
        tf.random.set_seed(seed)


def _flush_learner_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - the learner may have replaced or closed the stream
            pass


def serve(in_fd: int, out_fd: int) -> int:
    """Announce readiness, then answer requests until the parent closes the pipe."""
    _import_framework()
    protocol.write_frame(out_fd, {"ready": True, "backend": _BACKEND, "tensorflow": tf is not None})
    reader = protocol.FrameReader(in_fd, max_blobs=1 << 31)
    state: dict[str, Any] = {"handles": _Handles()}
    while True:
        try:
            request, blobs = reader.read_frame()
        except protocol.ChildGone:
            return 0
        if request.get("op") == "exit":
            return 0
        reply, out = _serve(request, blobs, state)
        _flush_learner_output()  # before the reply: the parent shows a failed check what it printed
        reply["id"] = request.get("id")
        protocol.write_frame(out_fd, reply, out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return serve(int(argv[0]), int(argv[1]))


if __name__ == "__main__":
    sys.exit(main())
