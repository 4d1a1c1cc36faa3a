"""Find forbidden API use in a learner's source with `ast`, without running it.

Some exercises ask for a function built by hand (softmax from `tf.exp`, gradients
by the chain rule), so the ready-made version is banned there. A banned entry is
a dotted prefix such as ``"tensorflow.nn"`` or ``"tensorflow.math.softmax"``;
``find_forbidden`` resolves every way of reaching one:

    import tensorflow as tf; tf.nn.softmax(x)       from tensorflow import nn as q; q.softmax
    import tensorflow.nn                             from tensorflow.math import sigmoid as s
    from tensorflow.keras import activations        tf.keras.activations.relu  (tensorflow.keras = keras)
    nn = tf.nn; nn.softmax(x)                        getattr(tf, "nn").softmax(x)

Forms that hide the name (``getattr(tf, name)``, ``__import__``,
``importlib.import_module``, ``eval``/``exec``, ``sys.modules``, ``from m import *``)
are findings too: a dynamic import/getattr hides what is called.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from grader.engine.errors import CheckFailure
from grader.checking.reach import Program

__all__ = [
    "Finding", "find_forbidden", "assert_allowed", "check_forbidden", "check_tripwire", "DYNAMIC", "is_dynamic", "normalise",
]

DYNAMIC = "it hides which functions your code calls"
_DYNAMIC_BUILTINS = {"exec", "eval", "compile", "__import__", "vars", "globals", "locals", "getattr",
                     "breakpoint", "__builtins__"}
_DYNAMIC_MODULES = ("importlib", "runpy", "imp", "sys.modules", "builtins", "operator.attrgetter",
                    "operator.methodcaller", "marshal", "pickle", "ctypes", "types.FunctionType",
                    "types.CodeType", "inspect", "code", "codeop", "pkgutil", "zipimport")
_DYNAMIC_ATTRIBUTES = {"__dict__", "__getattribute__", "__getattr__", "__builtins__", "__import__",
                       "__globals__", "__code__", "__closure__", "__wrapped__", "__subclasses__",
                       "__func__", "__self__", "__loader__", "__spec__"}
_REWRITES = (
    ("tensorflow.compat.v1", "tensorflow"),
    ("tensorflow.compat.v2", "tensorflow"),
    ("tensorflow._api.v2", "tensorflow"),
    ("tensorflow.keras", "keras"),
    ("tf_keras", "keras"),
    ("keras.src", "keras"),
    ("keras.api", "keras"),
)


@dataclass(frozen=True)
class Finding:
    """One use of a banned name: its line, the dotted name, and the top-level def it sits in.

    `function` is the enclosing top-level function (or class), None at module level.
    For a dynamic form, `name` is what hides the call ("getattr", "__import__", ...).
    """

    line: int
    name: str
    function: str | None
    module: str = "__learner__"


def normalise(name: str) -> str:
    """One spelling per API: tensorflow.keras.x and keras.src.x are keras.x."""
    changed = True
    while changed:
        changed = False
        for old, new in _REWRITES:
            if name == old or name.startswith(old + "."):
                name, changed = new + name[len(old):], True
    return name




def is_dynamic(finding: Finding) -> bool:
    """True when the finding is a form that hides what it calls rather than a banned name."""
    return _dynamic_path(finding.name) or finding.name.endswith(".*")


def _dynamic_path(path: str) -> bool:
    if path.startswith("builtins.") and path[len("builtins."):] in _DYNAMIC_BUILTINS:
        return True
    if path in _DYNAMIC_ATTRIBUTES or path in _DYNAMIC_BUILTINS:
        return True
    if path.startswith("builtins."):
        return False
    return any(path == m or path.startswith(m + ".") for m in _DYNAMIC_MODULES)


def _is_banned(path: str, banned: tuple[str, ...]) -> bool:
    return any(path == b or path.startswith(b + ".") for b in banned)


def _literal_getattr(node: ast.AST, program: Program) -> bool:
    """`getattr(x, "shape")`: a fixed name, as readable as `x.shape`."""
    call = program.parent.get(node)
    return (isinstance(call, ast.Call) and call.func is node and len(call.args) >= 2
            and isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, str))


def _uses(program: Program, node: ast.AST, banned: tuple[str, ...]) -> list[str]:
    """The banned or dynamic names this one node may stand for."""
    found: list[str] = []
    if isinstance(node, ast.Attribute) and node.attr in _DYNAMIC_ATTRIBUTES:
        found.append(node.attr)
    if isinstance(node, ast.Call) and "builtins.getattr" in program.values(node.func):
        return found + [p for p in sorted(program.values(node)) if _is_banned(p, banned)]
    if not isinstance(node, (ast.Name, ast.Attribute)) or not isinstance(node.ctx, ast.Load):
        return found
    for path in sorted(program.values(node)):
        if path.startswith(("#", "@")):
            continue
        if _dynamic_path(path):
            if path == "builtins.getattr" and _literal_getattr(node, program):
                continue
            found.append(path[len("builtins."):] if path.startswith("builtins.") else path)
        elif _is_banned(path, banned):
            found.append(path)
    return found


class _Reach:
    """The top-level statements a graded function reaches, across the learner's files."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.binders: dict[str, dict[str, list[ast.AST]]] = {}
        self.always: dict[str, list[ast.AST]] = {}
        self.top: dict[ast.AST, tuple[str, ast.AST]] = {}
        for module, units in program.units.items():
            names: dict[str, list[ast.AST]] = {}
            top = program.modules[module]
            for unit in units:
                risky = False
                for node in ast.walk(unit):
                    self.top[node] = (module, unit)
                    for name in self._binds(node, top):
                        names.setdefault(name, []).append(unit)
                    if program.scope_of.get(node) is top:  # runs at import, not only when called
                        risky |= bool(_uses(program, node, ())) or (
                            isinstance(node, (ast.Attribute, ast.Subscript))
                            and isinstance(node.ctx, ast.Store))
                if risky:
                    self.always.setdefault(module, []).append(unit)
            self.binders[module] = names

    def _binds(self, node: ast.AST, top: Any) -> list[str]:
        program = self.program
        if program.scope_of.get(node) is not top:
            return []
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            return [node.id]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return [node.name]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return [a.asname or a.name.split(".")[0] for a in node.names]
        if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            return [node.target.id]
        return []

    def from_names(self, module: str, names: Iterable[str]) -> list[ast.AST]:
        todo: list[ast.AST] = []
        for name in names:
            units = self.binders.get(module, {}).get(name, [])
            todo += units or self.program.units.get(module, [])  # defined dynamically: all of it
        return self.walk(todo, {module})

    def walk(self, todo: list[ast.AST], touched: set[str]) -> list[ast.AST]:
        reached: dict[int, ast.AST] = {}
        for module in touched:
            todo += self.always.get(module, [])
        while todo:
            unit = todo.pop()
            if id(unit) in reached:
                continue
            reached[id(unit)] = unit
            for node in ast.walk(unit):
                todo += self._next(node, touched)
        return list(reached.values())

    def _next(self, node: ast.AST, touched: set[str]) -> list[ast.AST]:
        program = self.program
        more: list[ast.AST] = []
        modules: list[tuple[str, str | None]] = []
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            scope = program.scope(node)
            key = program.lookup(node.id, scope)
            top = program.modules[scope.module]
            if key is None or key[0] == id(top):
                modules.append((scope.module, node.id))
                modules += [(star, node.id) for star in program.stars.get(scope.module, [])]
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            for base in program.values(node.value):
                if base.startswith("@"):
                    modules.append((base[1:], node.attr))
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in program.modules:
            modules += [(node.module, None if a.name == "*" else a.name) for a in node.names]
        if isinstance(node, ast.Import):
            modules += [(a.name, "") for a in node.names]
        if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
            for value in program.values(node):
                target = program.defs.get(value)
                if target is not None and target in self.top:
                    more.append(self.top[target][1])
        for module, name in modules:
            if module not in program.modules:
                continue
            if module not in touched:
                touched.add(module)
                more += self.always.get(module, [])
            if name is None:
                more += program.units[module]
            elif name:
                more += self.binders[module].get(name, [])
        return more


@lru_cache(maxsize=64)
def _analyse(sources: tuple[tuple[str, str], ...], banned: tuple[str, ...], module: str,
             functions: tuple[str, ...] | None) -> tuple[Finding, ...]:
    program = Program(dict(sources), normalise)
    if module not in program.trees:
        return ()  # the import check reports the syntax error
    reach = _Reach(program)
    if functions is None:
        units = reach.walk(list(program.units[module]), {module})
    else:
        units = reach.from_names(module, functions)
    findings: set[Finding] = set()
    for unit in units:
        where, top = reach.top[unit]
        owner = getattr(top, "name", None)
        for node in ast.walk(unit):
            for name in _uses(program, node, banned):
                findings.add(Finding(getattr(node, "lineno", 0), name, owner, where))
    longest = [f for f in findings if not any(
        o.module == f.module and o.line == f.line and o.name.startswith(f.name + ".") for o in findings)]
    return tuple(sorted(longest, key=lambda f: (f.module != module, f.module, f.line, f.name)))


def find_forbidden(source: str, banned: Iterable[str]) -> list[Finding]:
    """Every use of a banned API anywhere in `source` (but its __main__ block), in line order."""
    banned = tuple(normalise(b.strip()) for b in banned if b.strip())
    if not banned:
        return []
    found = _analyse((("__learner__", source),), banned, "__learner__", None)
    return [Finding(f.line, f.name, f.function) for f in found]


#: The ready-made function behind each op type the child's op-level trip-wire reports.
_OP_FUNCTIONS = {
    "Softmax": "tf.nn.softmax", "LogSoftmax": "tf.nn.log_softmax", "Sigmoid": "tf.sigmoid",
    "Tanh": "tf.tanh", "Relu": "tf.nn.relu", "Relu6": "tf.nn.relu6", "Elu": "tf.nn.elu",
    "Selu": "tf.nn.selu", "Softplus": "tf.math.softplus", "Softsign": "tf.nn.softsign",
    "LeakyRelu": "tf.nn.leaky_relu",
    "SoftmaxCrossEntropyWithLogits": "tf.nn.softmax_cross_entropy_with_logits",
    "SparseSoftmaxCrossEntropyWithLogits": "tf.nn.sparse_softmax_cross_entropy_with_logits",
}
_OP_PREFIX = "tensorflow.raw_ops."


def _spelling(name: str) -> str:
    if name.startswith(_OP_PREFIX) and name[len(_OP_PREFIX):] in _OP_FUNCTIONS:
        op = name[len(_OP_PREFIX):]
        return f"TensorFlow's ready-made {op} operation (what {_OP_FUNCTIONS[op]} computes)"
    return "tf." + name[len("tensorflow."):] if name.startswith("tensorflow.") else name


def _describe(finding: Finding, module: str) -> str:
    where = f"line {finding.line}"
    if finding.module not in (module, "__learner__"):
        where += f" of {finding.module}.py"
    if is_dynamic(finding):
        return f"{where} uses {finding.name}, which the grader can't check"
    return f"{where} uses {_spelling(finding.name)}, which is not allowed here"


def assert_allowed(
    source: str | dict[str, str], banned: Iterable[str], function: str | Iterable[str] | None = None,
    lesson: str = "", module: str | None = None,
) -> None:
    """Fail the check if the graded `function` reaches a banned API or a dynamic escape.

    What counts is what the function reaches: its own body, the helpers it calls (in
    this file and in the learner's other files, `sources` maps module -> source) and
    the module-level bindings they read. The `__main__` block and self-test helpers
    that the function does not call never cost points.
    """
    sources = {"__learner__": source} if isinstance(source, str) else dict(source)
    module = module or next(iter(sources))
    names = None if function is None else ((function,) if isinstance(function, str) else tuple(function))
    banned = tuple(normalise(b.strip()) for b in banned if b.strip())
    if not banned:
        return
    findings = _analyse(tuple(sources.items()), banned, module, names)
    if not findings:
        return
    first = findings[0]
    graded = " and ".join(names) if names else "this exercise"
    if is_dynamic(first):
        problem = f"{_describe(first, module)} ({DYNAMIC}); don't use it in {graded} or the helpers it calls"
        hint = (f"call functions by their names in {graded} and the helpers it calls; exec, eval, "
                "compile, getattr with a computed name, importlib and the like are fine in your "
                "`if __name__ == \"__main__\":` block")
    else:
        problem = _describe(first, module) + (f": {lesson}" if lesson else "")
        hint = ("the ready-made functions are fine for checking your answers in your "
                "`if __name__ == \"__main__\":` block, which the grader never runs")
    others = [_describe(f, module) for f in findings[1:6]]
    raise CheckFailure(problem, got="also " + "; ".join(others) if others else None, hint=hint)


def check_forbidden(sub: Any, exercise_id: str, banned: Iterable[str],
                    function: str | Iterable[str] | None, lesson: str = "") -> None:
    """assert_allowed over the learner's files as the child sees them (`sub` is the session).

    ``GRADER_API_GUARD=0`` in the grader's own environment turns this static analysis off
    (the child's trip-wire stays): the hostile suite uses it to prove the sandbox on its
    own, with the attack code really running. Learner code cannot set the grader's
    environment.
    """
    if os.environ.get("GRADER_API_GUARD", "1") == "0":
        return
    source = sub.source(exercise_id) if hasattr(sub, "source") else getattr(sub, exercise_id).source
    files = getattr(getattr(sub, "files", None), "files", {})
    module = files[exercise_id].module if exercise_id in files else exercise_id
    sources = {module: source}
    for other in files.values():
        sources.setdefault(other.module, other.source)
    assert_allowed(sources, banned, function, lesson, module=module)


def check_tripwire(sub: Any, banned: Iterable[str], function: str, lesson: str = "") -> None:
    """Fail if the learner's last call used a banned ready-made function (seen in the child).

    The child's trip-wire records the watched functions while a graded call runs; it
    catches what the static analysis cannot see (a function handed through map(), say).
    """
    banned = tuple(normalise(b.strip()) for b in banned if b.strip())
    used = [normalise(p) for p in getattr(sub, "tripped", ()) if _is_banned(normalise(p), banned)]
    if used:
        verb = "computed" if used[0].startswith(_OP_PREFIX) else "called"
        problem = f"while {function} ran, it {verb} {_spelling(used[0])}, which is not allowed here"
        raise CheckFailure(problem + (f": {lesson}" if lesson else ""),
                           got="also " + ", ".join(_spelling(u) for u in used[1:]) if used[1:] else None,
                           hint="the ready-made functions are fine for checking your answers in your "
                                "`if __name__ == \"__main__\":` block, which the grader never runs")
