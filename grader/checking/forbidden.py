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
from collections.abc import Iterable
from dataclasses import dataclass

from grader.checking.feedback import CheckFailure

__all__ = ["Finding", "find_forbidden", "assert_allowed", "DYNAMIC", "is_dynamic", "normalise"]

DYNAMIC = "dynamic import/getattr hides what is called"
_DYNAMIC_CALLS = {
    "importlib.import_module", "importlib.__import__", "builtins.__import__", "builtins.getattr",
    "builtins.eval", "builtins.exec", "sys.modules",
}
_DYNAMIC_BUILTINS = {"__import__", "eval", "exec", "vars"}
_DYNAMIC_ATTRIBUTES = {"__dict__", "__getattribute__", "__getattr__", "__builtins__", "__import__"}
_DYNAMIC_NAMES = {"getattr", "vars", "__dict__", *_DYNAMIC_BUILTINS, *_DYNAMIC_CALLS}
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
    return finding.name in _DYNAMIC_NAMES or finding.name.endswith(".*")


class _Scanner(ast.NodeVisitor):
    def __init__(self, banned: Iterable[str]) -> None:
        self.banned = tuple(normalise(b.strip()) for b in banned if b.strip())
        self.scopes: list[dict[str, str | None]] = [{}]
        self.top: str | None = None
        self.findings: list[Finding] = []

    # -- names ---------------------------------------------------------------

    def is_banned(self, name: str) -> bool:
        name = normalise(name)
        return any(name == b or name.startswith(b + ".") for b in self.banned)

    def lookup(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def shadowed(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def resolve(self, node: ast.AST) -> str | None:
        """The dotted module path an expression stands for, or None if it is not one."""
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if self._is_getattr(node):
            assert isinstance(node, ast.Call)
            base = self.resolve(node.args[0])
            attribute = node.args[1]
            if base and isinstance(attribute, ast.Constant) and isinstance(attribute.value, str):
                return f"{base}.{attribute.value}"
        return None

    def _is_getattr(self, node: ast.AST) -> bool:
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "getattr" and not self.shadowed("getattr") and len(node.args) >= 2)

    def report(self, node: ast.AST, name: str) -> None:
        self.findings.append(Finding(getattr(node, "lineno", 0), name, self.top))

    def check(self, node: ast.AST, name: str) -> None:
        if any(part in _DYNAMIC_ATTRIBUTES for part in name.split(".")):
            self.report(node, "__dict__")
        elif name in _DYNAMIC_CALLS:
            self.report(node, name)
        elif self.is_banned(name):
            self.report(node, normalise(name))

    def bind(self, target: ast.AST, value: ast.AST | None) -> None:
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = self.resolve(value) if value is not None else None
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = value.elts if isinstance(value, (ast.Tuple, ast.List)) else None
            for index, element in enumerate(target.elts):
                same = values[index] if values and len(values) == len(target.elts) else None
                self.bind(element, same)

    # -- imports -------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.check(node, alias.name)
            if alias.asname:
                self.scopes[-1][alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                self.scopes[-1][root] = root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            for alias in node.names:  # the learner's own modules: nothing to resolve
                self.scopes[-1][alias.asname or alias.name] = None
            return
        for alias in node.names:
            if alias.name == "*":
                module = normalise(node.module)
                if any(b.startswith(module + ".") or self.is_banned(module) for b in self.banned):
                    self.report(node, f"{node.module}.*")
                continue
            full = f"{node.module}.{alias.name}"
            self.check(node, full)
            self.scopes[-1][alias.asname or alias.name] = full

    # -- assignments make aliases -----------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.bind(target, node.value)
            if not isinstance(target, (ast.Name, ast.Tuple, ast.List)):
                self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.bind(node.target, node.value)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.bind(node.target, node.value)

    # -- uses ----------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            name = self.lookup(node.id)
            if name is not None:
                self.check(node, name)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self.resolve(node)
        if name is None:
            self.generic_visit(node)
        else:  # the longest chain decides: a banned prefix makes the whole chain banned
            self.check(node, name)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if self._is_getattr(node) and self.resolve(node.args[0]) is not None:
            name = self.resolve(node)
            if name is None:
                self.report(node, "getattr")
            else:
                self.check(node, name)
            for extra in node.args[2:]:
                self.visit(extra)
            return
        if isinstance(func, ast.Name) and func.id in _DYNAMIC_BUILTINS and not self.shadowed(func.id):
            if func.id != "vars" or (node.args and self.resolve(node.args[0]) is not None):
                self.report(node, func.id)
        self.generic_visit(node)

    # -- scopes --------------------------------------------------------------

    def _scoped(self, node: ast.AST, arguments: ast.arguments | None, body: list[ast.AST]) -> None:
        outer = self.top
        if len(self.scopes) == 1 and hasattr(node, "name"):
            self.top = node.name
        scope: dict[str, str | None] = {}
        if arguments is not None:
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            scope.update({a.arg: None for a in every})
        self.scopes.append(scope)
        for statement in body:
            self.visit(statement)
        self.scopes.pop()
        self.top = outer
        if hasattr(node, "name") and len(self.scopes) >= 1:
            self.scopes[-1][node.name] = None

    def _outer_parts(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for default in [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]:
            self.visit(default)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._outer_parts(node)
        self._scoped(node, node.args, list(node.body))

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._outer_parts(node)
        self._scoped(node, node.args, [node.body])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expression in [*node.decorator_list, *node.bases, *[k.value for k in node.keywords]]:
            self.visit(expression)
        self._scoped(node, None, list(node.body))


def find_forbidden(source: str, banned: Iterable[str]) -> list[Finding]:
    """Every use of a banned API in `source`, in line order; [] if it does not parse."""
    banned = list(banned)
    if not banned:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []  # the import check reports the syntax error
    scanner = _Scanner(banned)
    scanner.visit(tree)
    return sorted(set(scanner.findings), key=lambda f: (f.line, f.name))


def _reachable(source: str, function: str) -> set[str] | None:
    """Top-level defs that `function` uses, directly or through helpers (None: not found)."""
    tree = ast.parse(source)
    defs = {
        node.name: node for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    if function not in defs:
        return None
    seen, todo = {function}, [function]
    while todo:
        node = defs[todo.pop()]
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and inner.id in defs and inner.id not in seen:
                seen.add(inner.id)
                todo.append(inner.id)
    return seen


def _spelling(name: str) -> str:
    return "tf." + name[len("tensorflow."):] if name.startswith("tensorflow.") else name


def _describe(finding: Finding) -> str:
    if finding.name.endswith(".*"):
        return f"`from {finding.name[:-2]} import *` ({DYNAMIC})"
    if is_dynamic(finding):
        return f"{finding.name} ({DYNAMIC})"
    return _spelling(finding.name)


def assert_allowed(
    source: str, banned: Iterable[str], function: str | None = None, lesson: str = ""
) -> None:
    """Fail the check if `function` (or the module level) uses a banned API.

    Findings inside `function`, inside the top-level helpers it calls, and at
    module level (an import there serves every function) count.
    """
    findings = find_forbidden(source, banned)
    if function is not None and findings:
        reachable = _reachable(source, function)
        if reachable is not None:
            findings = [f for f in findings if f.function is None or f.function in reachable]
    if not findings:
        return
    first = findings[0]
    problem = f"line {first.line} uses {_describe(first)}, which is not allowed here"
    if lesson:
        problem += f": {lesson}"
    others = [f"line {f.line}: {_describe(f)}" for f in findings[1:6]]
    raise CheckFailure(
        problem,
        got="also " + "; ".join(others) if others else None,
        hint="the ready-made functions are fine for checking your answers, outside this file",
    )
