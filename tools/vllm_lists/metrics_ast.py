"""Static (``ast``) resolution the metric extractor is built from: which calls construct a
metric, the strings a name can be, label lists (through literals, ``+``, locals, ``self``
attributes and lists shared between files), and the ``if`` conditions a call sits under."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping

# prometheus_client metric types: a call of `Counter`/`Gauge`/... or of `_counter_cls`/... .
METRIC_TYPES: frozenset[str] = frozenset({"counter", "gauge", "histogram", "summary", "info"})


def metric_type(node: ast.AST) -> str | None:
    """The metric type a call constructs, or None.

    ``Counter(...)``, ``prometheus_client.Counter(...)`` and ``self._counter_cls(...)`` give
    "counter"; any other call (``logger.info(...)`` included) gives None.
    """
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    match = re.fullmatch(r"_?([a-z]+)_cls", callee)
    kind = match.group(1) if match else callee.lower() if callee[:1].isupper() else ""
    return kind if kind in METRIC_TYPES else None


def argument(call: ast.Call, keyword: str, position: int) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    if len(call.args) > position and not isinstance(call.args[position], ast.Starred):
        return call.args[position]
    return None


def enclosing(
    node: ast.AST, parents: Mapping[int, ast.AST], kinds: tuple[type[ast.AST], ...]
) -> ast.AST | None:
    parent = parents.get(id(node))
    while parent is not None and not isinstance(parent, kinds):
        parent = parents.get(id(parent))
    return parent


def _assignments(scope: ast.AST, name: str) -> list[tuple[int, ast.expr]]:
    """(line, value) of every ``name = value`` in ``scope``, tuple unpacking included."""
    found = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id == name:
                found.append((node.lineno, value))
            elif (
                isinstance(target, ast.Tuple)
                and isinstance(value, ast.Tuple)
                and len(target.elts) == len(value.elts)
            ):
                found += [
                    (node.lineno, v)
                    for t, v in zip(target.elts, value.elts, strict=True)
                    if isinstance(t, ast.Name) and t.id == name
                ]
    return found


def resolve_strings(expr: ast.expr | None, scope: ast.AST) -> list[str]:
    """The string(s) ``expr`` can be: a literal, or every string assigned to a local name."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.Name):
        values = [v for _, v in _assignments(scope, expr.id)]
        return [v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    return []


def shared_lists(modules: Iterable[ast.Module]) -> dict[str, tuple[str, ...]]:
    """{name: labels} for names bound to one and the same list of strings wherever bound."""
    seen: dict[str, set[tuple[str, ...]]] = {}
    for tree in modules:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple)):
                continue
            labels = tuple(
                v.value
                for v in node.value.elts
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if len(labels) != len(node.value.elts):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name):
                    seen.setdefault(target.id, set()).add(labels)
    return {name: next(iter(v)) for name, v in seen.items() if len(v) == 1}


def resolve_labels(
    expr: ast.expr,
    call: ast.AST,
    scope: ast.AST,
    cls: ast.AST | None,
    shared: Mapping[str, tuple[str, ...]],
) -> tuple[str, ...]:
    line = getattr(call, "lineno", 0)
    if isinstance(expr, ast.List | ast.Tuple):
        return tuple(
            label
            for e in expr.elts
            for label in _resolve_labels_element(e, call, scope, cls, shared)
        )
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return resolve_labels(expr.left, call, scope, cls, shared) + resolve_labels(
            expr.right, call, scope, cls, shared
        )
    if isinstance(expr, ast.Name):
        earlier = [v for n, v in _assignments(scope, expr.id) if n <= line]
        if earlier:
            return resolve_labels(earlier[-1], call, scope, cls, shared)
        if expr.id in shared:
            return shared[expr.id]
    return (f"<{ast.unparse(expr)}>",)


def _resolve_labels_element(
    expr: ast.expr,
    call: ast.AST,
    scope: ast.AST,
    cls: ast.AST | None,
    shared: Mapping[str, tuple[str, ...]],
) -> tuple[str, ...]:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return (expr.value,)
    if isinstance(expr, ast.Starred):
        return resolve_labels(expr.value, call, scope, cls, shared)
    if isinstance(expr, ast.Name):
        strings = resolve_strings(expr, scope)
        if len(strings) == 1:
            return (strings[0],)
    if (
        isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == "self"
        and cls is not None
    ):
        strings = {
            node.value.value
            for node in ast.walk(cls)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            and any(ast.unparse(t) == ast.unparse(expr) for t in node.targets)
        }
        if len(strings) == 1:
            return (strings.pop(),)
    return (f"<{ast.unparse(expr)}>",)


_INVERSE_OPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


def _negate(test: ast.expr) -> str:
    """Source text of ``not test``, simplified: ``x is None`` -> ``x is not None``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return ast.unparse(test.operand)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _INVERSE_OPS:
        inverse = _INVERSE_OPS[type(test.ops[0])]()
        return ast.unparse(ast.Compare(test.left, [inverse], test.comparators))
    text = ast.unparse(test)
    return f"not ({text})" if isinstance(test, ast.BoolOp | ast.Compare) else f"not {text}"


def condition_map(tree: ast.Module) -> dict[int, tuple[str, ...]]:
    """{id(node): the if-tests it is under in its function}, early ``return`` guards included.

    ``if not enabled: return`` makes the rest of the block conditional on ``enabled``. A function
    or class body starts unconditional: a def's own context is the caller's business.
    """
    out: dict[int, tuple[str, ...]] = {}
    exits = (ast.Return, ast.Raise, ast.Continue, ast.Break)

    def block(statements: list[ast.stmt], conds: tuple[str, ...]) -> None:
        for statement in statements:
            visit(statement, conds)
            if (
                isinstance(statement, ast.If)
                and not statement.orelse
                and isinstance(statement.body[-1], exits)
            ):
                conds = (*conds, _negate(statement.test))

    def visit(node: ast.AST, conds: tuple[str, ...]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            conds = ()
        out[id(node)] = conds
        if isinstance(node, ast.If):
            visit(node.test, conds)
            block(node.body, (*conds, ast.unparse(node.test)))
            block(node.orelse, (*conds, _negate(node.test)))
            return
        for _, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                block(value, conds)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        visit(item, conds)
            elif isinstance(value, ast.AST):
                visit(value, conds)

    visit(tree, ())
    return out
