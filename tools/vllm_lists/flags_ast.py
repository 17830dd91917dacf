"""Static (``ast``) lookups the flag extractor is built from: classes, functions, methods and
dataclass fields across several modules, whether an annotation makes a flag an
argparse.BooleanOptionalAction, and FlexibleArgumentParser's short-form rewrites. Nothing is
imported or run."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping


def find_class(modules: Mapping[str, ast.Module], name: str) -> tuple[str, ast.ClassDef] | None:
    for path, tree in modules.items():
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                return path, node
    return None


def find_function(
    modules: Mapping[str, ast.Module], name: str
) -> tuple[str, ast.FunctionDef] | None:
    for path, tree in modules.items():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return path, node
    return None


def find_method(cls: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def dataclass_fields(
    modules: Mapping[str, ast.Module], path: str, cls: ast.ClassDef
) -> list[tuple[str, ast.expr]]:
    """(name, annotation) of a dataclass's fields, bases (found in ``modules``) first.

    A field redefined in a subclass keeps its base position and takes the new annotation, as
    dataclasses does; ``ClassVar`` annotations are not fields.
    """
    fields: dict[str, ast.expr] = {}
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id != cls.name:
            found = find_class({path: modules[path]}, base.id) or find_class(modules, base.id)
            if found:
                fields |= dict(dataclass_fields(modules, *found))
    for node in cls.body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and "ClassVar" not in ast.unparse(node.annotation)
        ):
            fields[node.target.id] = node.annotation
    return list(fields.items())


def _union_members(ann: ast.expr) -> list[str]:
    """``bool | None`` / ``Optional[bool]`` / ``Union[...]`` / ``Annotated[T, ...]`` members."""
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        return _union_members(ann.left) + _union_members(ann.right)
    if isinstance(ann, ast.Subscript):
        head = ast.unparse(ann.value).rsplit(".", 1)[-1]
        elts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        if head in {"Union", "Optional"}:
            return [m for e in elts for m in _union_members(e)] + (
                ["None"] if head == "Optional" else []
            )
        if head == "Annotated":
            return _union_members(elts[0])
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):  # a string annotation
        return _union_members(ast.parse(ann.value, mode="eval").body)
    return [ast.unparse(ann)]


def is_bool_annotation(ann: ast.expr | None) -> bool:
    """True when vLLM's ``_compute_kwargs`` gives the field argparse.BooleanOptionalAction."""
    if ann is None:
        return False
    members = set(_union_members(ann))
    # bool | str | None is an optional-valued flag (nargs="?"), not a BooleanOptionalAction.
    return "bool" in members and members != {"bool", "str", "None"}


def parser_rewrites(modules: Mapping[str, ast.Module]) -> dict[str, list[str]]:
    """{long flag: [short forms]} that FlexibleArgumentParser rewrites before parsing.

    Recognised shape: an ``if``/``elif`` whose test has ``<arg> == "-X"`` and whose body names a
    ``"--long"`` string, e.g. ``elif arg == "-O" and ...: processed_args.append("--level")``.
    """
    found = find_class(modules, "FlexibleArgumentParser")
    rewrites: dict[str, list[str]] = {}
    if not found:
        return rewrites
    for node in ast.walk(found[1]):
        if not isinstance(node, ast.If):
            continue
        shorts = [
            c.comparators[0].value
            for c in ast.walk(node.test)
            if isinstance(c, ast.Compare)
            and len(c.ops) == 1
            and isinstance(c.ops[0], ast.Eq)
            and isinstance(c.comparators[0], ast.Constant)
            and isinstance(c.comparators[0].value, str)
            and re.fullmatch(r"-[A-Za-z]\w*", c.comparators[0].value)
        ]
        longs = [
            c.value
            for stmt in node.body
            for c in ast.walk(stmt)
            if isinstance(c, ast.Constant)
            and isinstance(c.value, str)
            and re.fullmatch(r"--[a-z][\w-]*", c.value)
        ]
        for short in shorts:
            for long in longs[:1]:
                if short not in rewrites.setdefault(long, []):
                    rewrites[long].append(short)
    return rewrites
