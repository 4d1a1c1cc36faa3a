"""What a graded function reaches, and which library names that code can stand for.

The analysis is flow-insensitive and over-approximates: every way a name or an
attribute can be bound (assignment, for, with, comprehensions, default arguments,
class attributes, return values, arguments of calls to the learner's functions,
imports from the learner's other files) adds to the set of library paths it may
hold. Every walk over the tree is iterative, so any source the compiler accepts
(a 20000-term `1+1+...`) is handled: a grader limit never scores a learner down.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from typing import Any

from grader.engine.inside.deep import on_big_stack

__all__ = ["parse", "Program"]

_BUILTINS = frozenset(dir(builtins))
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_MAX_DEPTH = 200


def parse(source: str, filename: str = "<learner>") -> ast.Module | None:
    """The tree of `source`, or None when it does not compile; deep nesting gets a big stack."""
    try:
        return ast.parse(source, filename)
    except (SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError):
        pass
    try:
        return on_big_stack(lambda: ast.parse(source, filename), 256, "parse-deep-source")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


@dataclass(eq=False)
class Scope:
    kind: str  # module, function, class, comprehension
    module: str
    parent: Scope | None
    names: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)


def is_main_guard(node: ast.stmt) -> bool:
    """`if __name__ == "__main__":` (either order): it never runs in the grader."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    parts = [node.test.left, *node.test.comparators]
    names = [p for p in parts if isinstance(p, ast.Name) and p.id == "__name__"]
    mains = [p for p in parts if isinstance(p, ast.Constant) and p.value == "__main__"]
    return len(parts) == 2 and bool(names) and bool(mains) and isinstance(node.test.ops[0], ast.Eq)


class Program:
    """The learner's modules, their scopes, and the library paths each name may hold."""

    def __init__(self, sources: dict[str, str], normalise: object) -> None:
        self.normalise = normalise
        self.trees: dict[str, ast.Module] = {}
        self.scope_of: dict[ast.AST, Scope] = {}
        self.parent: dict[ast.AST, ast.AST] = {}
        self.modules: dict[str, Scope] = {}
        self.defs: dict[str, ast.AST] = {}  # "#id" -> def/class/lambda node
        self.def_scope: dict[str, Scope] = {}  # "#id" -> the scope its body opens
        self.units: dict[str, list[ast.AST]] = {}  # module -> top-level statements that run
        self.stars: dict[str, list[str]] = {}
        self.env: dict[tuple[int, str], set[str]] = {}
        self.fields: dict[str, set[str]] = {}
        self.returns: dict[str, set[str]] = {}
        for module, source in sources.items():
            tree = parse(source, module + ".py")
            if tree is not None:
                self.trees[module] = tree
        for module, tree in self.trees.items():
            self._index(module, tree)
        self._solve()

    # -- pass 1: scopes, parents, units -------------------------------------------

    def _index(self, module: str, tree: ast.Module) -> None:
        top = Scope("module", module, None)
        self.modules[module] = top
        units: list[ast.AST] = []
        todo: list[ast.stmt] = list(tree.body)
        while todo:  # the statements that run at import, without the __main__ block
            statement = todo.pop(0)
            if is_main_guard(statement):
                todo[:0] = statement.orelse  # type: ignore[attr-defined]
                continue
            units.append(statement)
        self.units[module] = units
        stack: list[tuple[ast.AST, Scope]] = [(s, top) for s in units]
        while stack:
            node, scope = stack.pop()
            self.scope_of[node] = scope
            inner = scope
            if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                key = f"#{id(node)}"
                self.defs[key] = node
                kind = "class" if isinstance(node, ast.ClassDef) else "function"
                inner = Scope(kind, module, scope)
                self.def_scope[key] = inner
                if not isinstance(node, ast.Lambda):
                    scope.names.add(node.name)  # type: ignore[union-attr]
                if not isinstance(node, ast.ClassDef):
                    arguments = node.args
                    for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                              arguments.vararg, arguments.kwarg]:
                        if a is not None:
                            inner.names.add(a.arg)
            elif isinstance(node, _COMPREHENSIONS):
                inner = Scope("comprehension", module, scope)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                scope.globals.update(node.names)
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                self._declare(scope, node.id)
            elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                owner = scope
                while owner.kind == "comprehension" and owner.parent is not None:
                    owner = owner.parent
                owner.names.add(node.target.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name == "*" and isinstance(node, ast.ImportFrom):
                        self.stars.setdefault(module, []).append(node.module or "")
                    else:
                        scope.names.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.ExceptHandler) and node.name:
                scope.names.add(node.name)
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
                stack.append((child, self._child_scope(node, child, scope, inner)))

    @staticmethod
    def _declare(scope: Scope, name: str) -> None:
        if name not in scope.globals:
            scope.names.add(name)

    @staticmethod
    def _child_scope(node: ast.AST, child: ast.AST, scope: Scope, inner: Scope) -> Scope:
        """Decorators, defaults, annotations and bases belong to the outer scope."""
        if inner is scope or isinstance(node, _COMPREHENSIONS):
            return inner
        if isinstance(node, _FUNCTIONS) and child is node.args:
            return scope
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            outside = [*node.decorator_list, *getattr(node, "bases", ()), *getattr(node, "keywords", ()),
                       getattr(node, "returns", None)]
            if any(child is o for o in outside):
                return scope
        return inner

    # -- names ---------------------------------------------------------------------

    def scope(self, node: ast.AST) -> Scope:
        return self.scope_of[node]

    def lookup(self, name: str, scope: Scope) -> tuple[int, str] | None:
        start = scope
        while scope is not None:
            if name in scope.globals:
                top = self.modules[scope.module]
                return (id(top), name)
            if name in scope.names and (scope is start or scope.kind != "class"):
                return (id(scope), name)
            scope = scope.parent  # type: ignore[assignment]
        return None

    def name_values(self, name: str, scope: Scope) -> set[str]:
        key = self.lookup(name, scope)
        if key is not None:
            return self.env.get(key, set())
        out: set[str] = set()
        for star in self.stars.get(scope.module, []):
            if star in self.modules:
                out |= self.env.get((id(self.modules[star]), name), set())
            elif star:
                out.add(self.normalise(f"{star}.{name}"))  # type: ignore[operator]
        if not out and name in _BUILTINS:
            out.add(f"builtins.{name}")
        return out

    # -- values ----------------------------------------------------------------------

    def values(self, node: ast.AST, depth: int = 0) -> set[str]:
        """The library paths and learner objects ("#id", "@module") `node` may stand for."""
        if depth > _MAX_DEPTH:
            return set()
        d = depth + 1
        if isinstance(node, ast.Name):
            return self.name_values(node.id, self.scope(node))
        if isinstance(node, ast.Attribute):
            return self.attribute(self.values(node.value, d), node.attr)
        if isinstance(node, ast.Call):
            return self._call_values(node, d)
        if isinstance(node, (ast.Subscript, ast.Starred, ast.Await, ast.NamedExpr)):
            return self.values(node.value, d)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return set().union(*[self.values(e, d) for e in node.elts])
        if isinstance(node, ast.Dict):
            return set().union(*[self.values(v, d) for v in node.values])
        if isinstance(node, ast.IfExp):
            return self.values(node.body, d) | self.values(node.orelse, d)
        if isinstance(node, ast.BoolOp):
            return set().union(*[self.values(v, d) for v in node.values])
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return self.values(node.elt, d)
        if isinstance(node, ast.DictComp):
            return self.values(node.value, d)
        if isinstance(node, ast.Lambda):
            return {f"#{id(node)}"}
        return set()

    def attribute(self, bases: set[str], attr: str) -> set[str]:
        out = set(self.fields.get(attr, ()))
        for base in bases:
            if base.startswith("@"):
                module = self.modules.get(base[1:])
                if module is not None:
                    out |= self.env.get((id(module), attr), set())
            elif base.startswith("#"):
                scope = self.def_scope.get(base)
                if scope is not None and scope.kind == "class":
                    out |= self.env.get((id(scope), attr), set())
            else:
                out.add(self.normalise(f"{base}.{attr}"))  # type: ignore[operator]
        return out

    def _call_values(self, node: ast.Call, depth: int) -> set[str]:
        out: set[str] = set()
        for callee in self.values(node.func, depth):
            if callee in ("builtins.getattr", "builtins.attrgetter") and len(node.args) >= 2:
                name = node.args[1]
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    out |= self.attribute(self.values(node.args[0], depth), name.value)
                out |= set().union(*[self.values(a, depth) for a in node.args[2:]])
            elif callee.startswith("#"):
                target = self.defs.get(callee)
                out |= {callee} if isinstance(target, ast.ClassDef) else self.returns.get(callee, set())
            else:  # a library call may hand back what it was given (nullcontext(tf), list([tf]))
                out |= set().union(*[self.values(a, depth) for a in node.args])
        return out

    # -- pass 2: bindings to a fixed point -------------------------------------------------

    def _bind(self, target: ast.AST, values: set[str]) -> bool:
        if not values:
            return False
        if isinstance(target, ast.Name):
            scope = self.scope(target)
            key = self.lookup(target.id, scope)
            if key is None:
                return False
            changed = self._add(self.env, key, values)
            if scope.kind == "class":
                changed |= self._add(self.fields, target.id, values)
            return changed
        if isinstance(target, (ast.Tuple, ast.List)):
            return any([self._bind(e, values) for e in target.elts])
        if isinstance(target, ast.Starred):
            return self._bind(target.value, values)
        if isinstance(target, ast.Attribute):
            return self._add(self.fields, target.attr, values)
        if isinstance(target, ast.Subscript):
            return self._bind(target.value, values)
        return False

    @staticmethod
    def _add(table: dict, key: object, values: set[str]) -> bool:  # type: ignore[type-arg]
        have = table.setdefault(key, set())
        if values <= have:
            return False
        have |= values
        return True

    def _solve(self) -> None:
        nodes = list(self.scope_of)
        for _ in range(30):
            changed = False
            for node in nodes:
                changed |= self._step(node)
            if not changed:
                return

    def _step(self, node: ast.AST) -> bool:  # noqa: C901 - one case per binding form
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            values = self.values(node.value)
            return any([self._bind(t, values) for t in targets])
        if isinstance(node, ast.NamedExpr):
            return self._bind(node.target, self.values(node.value))
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            return self._bind(node.target, self.values(node.iter))
        if isinstance(node, ast.withitem) and node.optional_vars is not None:
            return self._bind(node.optional_vars, self.values(node.context_expr))
        if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            return self._step_def(node)
        if isinstance(node, (ast.Return, ast.Yield)) and node.value is not None:
            owner = self._function_of(node)
            return owner is not None and self._add(self.returns, owner, self.values(node.value))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return self._step_import(node)
        if isinstance(node, ast.Call):
            return self._step_call(node)
        return False

    def _function_of(self, node: ast.AST) -> str | None:
        while node in self.parent:
            node = self.parent[node]
            if isinstance(node, _FUNCTIONS):
                return f"#{id(node)}"
        return None

    def _step_def(self, node: Any) -> bool:  # a FunctionDef, AsyncFunctionDef, Lambda or ClassDef
        key = f"#{id(node)}"
        changed = False
        if not isinstance(node, ast.Lambda):
            scope = self.scope_of[node]
            lookup = self.lookup(node.name, scope)
            if lookup is not None:
                changed |= self._add(self.env, lookup, {key})
            if scope.kind == "class":
                changed |= self._add(self.fields, node.name, {key})
        if isinstance(node, ast.Lambda):
            changed |= self._add(self.returns, key, self.values(node.body))
        if isinstance(node, ast.ClassDef):
            return changed
        inner = self.def_scope[key]
        arguments = node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        for a, default in zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults):
            changed |= self._add(self.env, (id(inner), a.arg), self.values(default))
        for a, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
            if default is not None:
                changed |= self._add(self.env, (id(inner), a.arg), self.values(default))
        return changed

    def _step_import(self, node: ast.Import | ast.ImportFrom) -> bool:
        scope = self.scope_of[node]
        changed = False
        for alias in node.names:
            if alias.name == "*":
                continue
            if isinstance(node, ast.Import):
                bound = alias.asname or alias.name.split(".")[0]
                full = alias.name if alias.asname else bound
                values = {f"@{full}"} if full in self.modules else {self.normalise(full)}  # type: ignore[operator]
            elif node.level == 0 and node.module in self.modules:
                bound = alias.asname or alias.name
                values = self.env.get((id(self.modules[node.module]), alias.name), set())
            elif node.level == 0 and node.module:
                bound = alias.asname or alias.name
                values = {self.normalise(f"{node.module}.{alias.name}")}  # type: ignore[operator]
            else:
                continue
            key = self.lookup(bound, scope)
            if key is not None and values:
                changed |= self._add(self.env, key, values)
        return changed

    def _step_call(self, node: ast.Call) -> bool:
        changed = False
        for callee in self.values(node.func):
            target = self.defs.get(callee)
            if not isinstance(target, _FUNCTIONS):
                continue
            inner = self.def_scope[callee]
            params = [*target.args.posonlyargs, *target.args.args]
            if isinstance(node.func, ast.Attribute) and isinstance(self.parent.get(target), ast.ClassDef):
                params = params[1:]  # a method: self is the object
            for a, value in zip(params, node.args):
                changed |= self._add(self.env, (id(inner), a.arg), self.values(value))
            names = {a.arg for a in [*params, *target.args.kwonlyargs]}
            for keyword in node.keywords:
                if keyword.arg in names:
                    changed |= self._add(self.env, (id(inner), keyword.arg), self.values(keyword.value))
        return changed
