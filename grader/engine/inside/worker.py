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
import traceback
from types import ModuleType
from typing import Any

import numpy as np

from grader.engine.inside import protocol

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
    import threading

    result: dict[str, Any] = {}

    def work() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 1_000_000))
        try:
            result["code"] = compile(source, filename, "exec")
        except BaseException as exc:  # noqa: BLE001 - handed back to the importing thread
            result["error"] = exc
        finally:
            sys.setrecursionlimit(old)

    size = threading.stack_size()
    threading.stack_size(64 * 1024 * 1024)
    try:
        thread = threading.Thread(target=work, name="compile-deep-source")
        thread.start()
        thread.join()
    finally:
        threading.stack_size(size)
    if "error" in result:
        raise result["error"]
    return result["code"]


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


def _layer_record(layer: Any) -> dict[str, Any]:
    config: dict[str, Any] = {}
    try:
        config = layer.get_config()
    except Exception:
        pass
    activation = config.get("activation")
    try:
        output_shape = list(layer.output.shape) if hasattr(layer, "output") else None
    except Exception:
        output_shape = None
    return {
        "class": type(layer).__name__,
        "name": str(getattr(layer, "name", "")),
        "units": config.get("units") if isinstance(config.get("units"), int) else None,
        "activation": activation if isinstance(activation, str) else None,
        "params": int(layer.count_params()) if getattr(layer, "built", False) else 0,
        "output_shape": output_shape,
    }


def describe(value: Any) -> dict[str, Any]:
    """A plain description of an object that stays in the child (layers for a model)."""
    if hasattr(value, "layers") and hasattr(value, "count_params"):
        layers: list[dict[str, Any]] = []

        def walk(layer: Any) -> None:
            inner = getattr(layer, "layers", None)
            if isinstance(inner, list) and inner:
                for sub in inner:
                    walk(sub)
            else:
                layers.append(_layer_record(layer))

        for top in value.layers:
            walk(top)

        def shape(attr: str) -> list[Any] | None:
            for getter in (lambda: getattr(value, attr).shape, lambda: getattr(value, attr + "_shape")):
                try:
                    return [None if d is None else int(d) for d in getter()]
                except Exception:  # noqa: BLE001 - not built yet, or a learner's odd model
                    continue
            return None

        try:
            params = int(value.count_params())
        except Exception:
            params = -1
        return {
            "kind": "keras_model",
            "layers": layers,
            "params": params,
            "input_shape": shape("input"),
            "output_shape": shape("output"),
            "compiled": bool(getattr(value, "optimizer", None) is not None),
        }
    try:
        text = repr(value)[:200]
    except Exception:  # noqa: BLE001 - a learner object whose repr raises
        text = ""
    return {"kind": "object", "repr": text}


#: What export_model sends at most: layers, and items and depth of a plain config.
EXPORT_MAX_LAYERS, EXPORT_MAX_ITEMS, EXPORT_MAX_DEPTH = 65, 256, 6


def _plain_config(value: Any, depth: int = 0) -> Any:
    """Only plain JSON values survive (anything else is dropped: ``_DROP``), bounded in size."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()  # an epsilon or a scale kept as a numpy scalar
    if value is None or type(value) in (bool, int, float):
        return value
    if type(value) is str:
        return value[:200]
    if depth >= EXPORT_MAX_DEPTH:
        return _DROP
    if isinstance(value, (list, tuple)):  # Keras keeps lists as its own tracked list type
        items = [_plain_config(v, depth + 1) for v in list(value)[:EXPORT_MAX_ITEMS]]
        return [v for v in items if v is not _DROP]
    if isinstance(value, dict):
        pairs = [(k[:100], _plain_config(v, depth + 1)) for k, v in list(value.items())[:EXPORT_MAX_ITEMS]
                 if type(k) is str]
        return {k: v for k, v in pairs if v is not _DROP}
    return _DROP


_DROP = object()


def export_model(value: Any, max_values: int) -> dict[str, Any]:
    """A Keras model as plain data, for the parent to rebuild and evaluate itself.

    For each layer (nested models flattened, in order): the class name as Python reports
    it, its ``get_config()`` cut to plain JSON values, the shapes of its weights and, when
    the whole model has at most `max_values` numbers, the weights as float32 arrays. The
    parent trusts none of it except as numbers to evaluate with its own forward pass.
    """
    if not (hasattr(value, "layers") and hasattr(value, "get_weights")):
        raise TypeError(f"a {type(value).__name__} is not a Keras model")
    found: list[Any] = []

    def walk(layer: Any) -> None:
        inner = getattr(layer, "layers", None)
        if isinstance(inner, list) and inner:
            for sub in inner:
                walk(sub)
        elif len(found) < EXPORT_MAX_LAYERS:
            found.append(layer)

    for top in list(value.layers):
        walk(top)
    shapes = [[[int(d) for d in w.shape] for w in layer.weights] for layer in found]
    total = sum(int(np.prod(shape)) for layer_shapes in shapes for shape in layer_shapes)
    records = []
    for layer, layer_shapes in zip(found, shapes):
        try:
            config = _plain_config(layer.get_config())
        except Exception:  # noqa: BLE001 - a layer without a config is reported as such
            config = {}
        weights = None
        if total <= max_values:
            weights = [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
        records.append({"class": type(layer).__name__[:100], "name": str(getattr(layer, "name", ""))[:100],
                        "config": config if type(config) is dict else {},
                        "weight_shapes": layer_shapes, "weights": weights})
    return {"class": type(value).__name__[:100], "layers": records}


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


def _to_plain(value: Any, depth: int = 0) -> Any:
    """Turn framework tensors into numpy arrays before encoding (as deep as the protocol goes)."""
    if depth > protocol.MAX_DEPTH:
        return value  # encode_value refuses it with "nested too deeply"
    if tf is not None and isinstance(value, (tf.Tensor, tf.Variable)):
        array = value.numpy()
        if value.dtype == tf.string:
            array = np.vectorize(lambda b: b.decode("utf-8", "replace"), otypes=[str])(array)
        return array
    if type(value) is not np.ndarray and hasattr(value, "__array__") and hasattr(value, "shape"):
        try:
            return np.asarray(value)
        except Exception:
            return value
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        return np.asarray(value).view(np.ndarray)
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(_to_plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return {k: _to_plain(v, depth + 1) for k, v in value.items()}
    return value


def _to_arguments(value: Any, tensors: bool) -> Any:
    if isinstance(value, np.ndarray) and tensors and tf is not None:
        return tf.constant(value)
    if isinstance(value, list):
        return [_to_arguments(v, tensors) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_arguments(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: _to_arguments(v, tensors) for k, v in value.items()}
    return value


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
            tensors = bool(request.get("tensors", True))
            args = _to_arguments(protocol.decode_value(request["args"], blobs, handles.resolve), tensors)
            kwargs = _to_arguments(protocol.decode_value(request["kwargs"], blobs, handles.resolve), tensors)
        except Exception as exc:  # noqa: BLE001 - e.g. a model from a program that was restarted
            return {"ok": False, "error": _error(exc, "arguments", filenames)}, []
        if request.get("seed") is not None:
            _seed(int(request["seed"]))
        from grader.engine.inside import tripwire

        try:
            with tripwire.graded() as used:
                value = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - learner errors become data
            return {"ok": False, "error": _error(exc, "call", filenames), "tripped": sorted(used)}, []
        out: list[bytes] = []
        try:
            encoded = protocol.encode_value(_to_plain(value), out, fallback=handles.add)
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
