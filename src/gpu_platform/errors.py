"""Turns a pydantic ValidationError into one line per problem, each starting with the YAML key path
(`nodePools.l4-spot.sharing.migProfile: ...`), worded for the person editing the stack file."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from gpu_platform.spec import Problems

_NAME_RULE = (
    "not a valid {kind} name: lowercase letters, digits and '-', starting with a letter, ending "
    "with a letter or digit (pools: at most 31 characters, models: 41)"
)


def format_path(path: tuple[str | int, ...]) -> str:
    """`("nodePools", "l4", "instanceTypes", 0)` -> `nodePools.l4.instanceTypes[0]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "." in part or not part:
            text += f'["{part}"]'
        else:
            text += f".{part}" if text else part
    return text or "(the whole value)"


def format_errors(error: ValidationError, root: type[BaseModel]) -> list[str]:
    """One line per problem, sorted by key path, duplicates removed."""
    lines: list[str] = []
    for item in error.errors(include_url=False, include_input=False):
        path, model = _walk(root, item["loc"])
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, Problems):
            lines += [f"{format_path(path + p.path)}: {p.message}" for p in cause]
        elif item["type"] == "union_tag_invalid":
            # The discriminator's own key is the one to fix.
            lines.append(f"{format_path((*path, 'provider'))}: {_message(item, path, model)}")
        else:
            lines.append(f"{format_path(path)}: {_message(item, path, model)}")
    return sorted(dict.fromkeys(lines))


def _message(item: dict[str, Any], path: tuple[str | int, ...], parent: Any) -> str:
    kind, message = item["type"], item["msg"]
    if item["loc"] and item["loc"][-1] == "[key]":
        # An invalid map key: pool names have their own rule, other keys a closed set.
        if path[:1] in (("nodePools",), ("models",)):
            return _NAME_RULE.format(kind=path[0][:-1].replace("nodePool", "pool"))
        return f"invalid key: {message}"
    if kind == "extra_forbidden":
        allowed = sorted(_aliases(parent)) if parent is not None else []
        hint = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        text = "unknown key"
        if hint:
            text += f" (did you mean {hint[0]}?)"
        return f"{text}; allowed keys: {', '.join(allowed)}" if allowed else text
    if kind == "missing":
        field = _field(parent, path[-1]) if parent is not None and path else None
        described = f"; {field.description}" if field is not None and field.description else ""
        return f"required key is missing{described}"
    if kind == "union_tag_invalid":
        tags = item.get("ctx", {}).get("expected_tags", "")
        return f"unknown provider; use one of: {tags.replace(chr(39), '')}"
    if kind in ("model_type", "dict_type"):
        return "must be a map of keys to values"
    if kind == "union_tag_not_found":
        return "required key provider is missing (aws or gcp)"
    return message.removeprefix("Value error, ")


def _aliases(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def _field(model: type[BaseModel], key: str | int) -> FieldInfo | None:
    return _aliases(model).get(str(key))


def _walk(root: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[tuple, type | None]:
    """Follow a pydantic error location through the models.

    Returns the location as the user sees it (union tags and `[key]` markers dropped) and the
    model class that holds the last key (for unknown/missing key messages), or None.
    """
    path: list[str | int] = []
    current: Any = root
    holder: type[BaseModel] | None = root
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if part == "[key]":
            continue
        current = _unwrap_optional(current)
        if _is_model(current):
            holder = current
            field = _field(current, part)
            path.append(part)
            current = field.annotation if field is not None else None
            continue
        origin = typing.get_origin(current)
        if origin is typing.Annotated:
            current = typing.get_args(current)[0]
            parts.insert(0, part)
            continue
        if origin in (types.UnionType, typing.Union):
            # A discriminated union: pydantic puts the tag in the location; pick that member.
            current = next((m for m in typing.get_args(current) if _tag(m) == part), None)
            continue
        if origin is dict:
            path.append(part)
            current = typing.get_args(current)[1]
            holder = None
            continue
        path.append(part)
        current = typing.get_args(current)[0] if origin in (tuple, list) else None
        holder = None
    return tuple(path), holder if _is_model(holder) else None


def _unwrap_optional(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (types.UnionType, typing.Union) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _tag(model: Any) -> str | None:
    field = model.model_fields.get("provider") if _is_model(model) else None
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if args else None
