"""Writes the public components' typed args from the config specs, so one model holds each
setting's type, default and description (the stack config, its README reference and every
language's component schema read the same words).

    python -m tools.argsgen                 # print the generated modules
    python -m tools.argsgen --write         # rewrite them (`make docs` does)

A test fails when a generated module differs from what this prints.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from gpu_platform.addons.spec import AddonsSpec, ChartVersionsSpec, ClusterAutoscalerSpec
from gpu_platform.cloud import AwsCloudSpec, ClusterSpec, GcpCloudSpec, SystemNodesSpec
from gpu_platform.data.spec import BackupsSpec, VectorStoreSpec
from gpu_platform.data.store import COMPONENT_KEYS
from gpu_platform.observability.spec import AlertsSpec, ObservabilitySpec, SlackSpec
from gpu_platform.platform.spec import PlatformSpec
from gpu_platform.pools import NodePoolSpec, SharingSpec
from gpu_platform.pricing import PricingSpec
from gpu_platform.serving.spec import KvShapeSpec, ModelSpec

ROOT = Path(__file__).resolve().parent.parent


class Args(NamedTuple):
    """One generated TypedDict: its name, the spec it mirrors (or the specs of a tagged union,
    merged into one: an object type of every member's keys, which the spec's own union then
    checks) and the spec's fields it leaves out (those the component sets itself)."""

    name: str
    spec: type[BaseModel] | tuple[type[BaseModel], ...]
    exclude: frozenset[str] = frozenset()


# module path -> (its docstring, its TypedDicts in dependency order)
MODULES: dict[str, tuple[str, list[Args]]] = {
    "src/gpu_platform/pool_args.py": (
        "Typed args of a GPU node pool: what the public node pool components take, in every "
        "language. Generated from gpu_platform.pools.NodePoolSpec by `make docs` "
        "(tools/argsgen.py); change the spec, not this file.",
        [Args("GpuSharingArgs", SharingSpec), Args("GpuPoolArgs", NodePoolSpec)],
    ),
    "src/gpu_platform/serving/model_args.py": (
        "Typed args of a served model: what the public model service takes, in every "
        "language. Generated from gpu_platform.serving.spec.ModelSpec by `make docs` "
        "(tools/argsgen.py); change the spec, not this file.",
        [Args("KvShapeArgs", KvShapeSpec), Args("ModelArgs", ModelSpec)],
    ),
    "src/gpu_platform/data/store_args.py": (
        "Typed args of a vector store: what the public store components (PgVector, "
        "ManagedPgVector, Weaviate) take, in every language. Generated from "
        "gpu_platform.data.spec.VectorStoreSpec by `make docs` (tools/argsgen.py); change the "
        "spec, not this file. The engine and mode are the component's; acceptChanges belongs "
        "to the stack config's check of a deployed store.",
        [
            Args("VectorStoreBackupsArgs", BackupsSpec),
            Args(
                "VectorStoreArgs",
                VectorStoreSpec,
                frozenset(COMPONENT_KEYS),
            ),
        ],
    ),
    "src/gpu_platform/observability/observability_args.py": (
        "Typed args of the observability stack and of price overrides: what the public "
        "Prometheus component takes, in every language. Generated from "
        "gpu_platform.observability.spec.ObservabilitySpec and gpu_platform.pricing.PricingSpec "
        "by `make docs` (tools/argsgen.py); change the specs, not this file.",
        [
            Args("SlackArgs", SlackSpec),
            Args("AlertsArgs", AlertsSpec),
            Args("ObservabilityArgs", ObservabilitySpec),
            Args("PricingArgs", PricingSpec),
        ],
    ),
    "src/gpu_platform/platform/config_args.py": (
        "Typed args of the whole platform: the settings of one environment, as a stack's "
        "`gpu-platform:platform` config holds them, which the public Platform component takes "
        "in every language. Generated from gpu_platform.platform.spec.PlatformSpec by `make "
        "docs` (tools/argsgen.py); change the specs, not this file. `cloud` is one object "
        "with every cloud's keys (a component schema has no tagged unions): `provider` "
        "chooses, and the spec refuses the other cloud's keys.",
        [
            Args("PlatformCloudArgs", (AwsCloudSpec, GcpCloudSpec)),
            Args("SystemNodesArgs", SystemNodesSpec),
            Args("PlatformClusterArgs", ClusterSpec),
            Args("ChartVersionsArgs", ChartVersionsSpec),
            Args("ClusterAutoscalerArgs", ClusterAutoscalerSpec),
            Args("AddonsArgs", AddonsSpec),
            Args("PlatformVectorStoreArgs", VectorStoreSpec),
            Args("PlatformConfigArgs", PlatformSpec),
        ],
    ),
}


def _members(spec: type[BaseModel] | tuple[type[BaseModel], ...]) -> tuple[type[BaseModel], ...]:
    return spec if isinstance(spec, tuple) else (spec,)


def _registry() -> dict[type, tuple[str, str]]:
    """Every generated class by the spec(s) it mirrors: (its module, its name). A spec
    generated twice (with different exclusions) is imported from its first module."""
    found: dict[type, tuple[str, str]] = {}
    for path, (_, classes) in MODULES.items():
        module = path.removeprefix("src/").removesuffix(".py").replace("/", ".")
        for name, spec, _ in classes:
            for member in _members(spec):
                found.setdefault(member, (module, name))
    return found


def _tag(spec: type[BaseModel]) -> str:
    """A union member's discriminator value (`aws`), else its name."""
    provider = spec.model_fields.get("provider")
    if provider is not None and typing.get_origin(provider.annotation) is typing.Literal:
        return str(typing.get_args(provider.annotation)[0])
    return spec.__name__


def _fields(
    spec: type[BaseModel] | tuple[type[BaseModel], ...], exclude: frozenset[str]
) -> list[tuple[str, Any, bool, str | None, str]]:
    """(name, annotation, required, default, description) of each field; a union's fields
    merged: a key is required when every member requires it, described per member where the
    members differ, and typed as the members that allow it (a member's `None`-only field is
    one it refuses)."""
    members = _members(spec)
    order: dict[str, list[tuple[type[BaseModel], FieldInfo]]] = {}
    for member in members:
        for name, field in member.model_fields.items():
            if name not in exclude:
                order.setdefault(name, []).append((member, field))
    result = []
    for name, found in order.items():
        allowed = [(m, f) for m, f in found if f.annotation is not type(None)]
        annotation = allowed[0][1].annotation
        literals = [
            v
            for _, f in allowed
            if typing.get_origin(f.annotation) is typing.Literal
            for v in typing.get_args(f.annotation)
        ]
        if len(literals) > 1:
            annotation = typing.Literal[tuple(literals)]  # type: ignore[valid-type]
        required = len(allowed) == len(members) and all(f.is_required() for _, f in allowed)
        defaults = {_default(f) for _, f in allowed}
        default = defaults.pop() if len(defaults) == 1 else None
        texts = [f.description or "" for _, f in allowed]
        if len(members) > 1 and (len(set(texts)) > 1 or len(allowed) < len(members)):
            text = " ".join(f"{_tag(m)}: {f.description}" for m, f in allowed)
        else:
            text = texts[0]
        result.append((name, annotation, required, default, text))
    return result


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type without Annotated and None, whether None was allowed)."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (types.UnionType, typing.Union):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(members) < len(typing.get_args(annotation))
            annotation = members[0] if len(members) == 1 else annotation
            if len(members) != 1:
                return annotation, optional
        else:
            return annotation, optional


def _type(annotation: Any, names: dict[type, str]) -> tuple[str, str]:
    """(the Python type to write, what the description adds: allowed values)."""
    annotation, _ = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return "str", "One of: " + ", ".join(str(v) for v in values) + "."
    if origin in (tuple, list):
        inner, note = _type(typing.get_args(annotation)[0], names)
        return f"list[{inner}]", note
    if origin is dict:
        key, value = typing.get_args(annotation)
        inner, note = _type(value, names)
        return f"dict[{_type(key, names)[0]}, {inner}]", note
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return names[annotation], ""
    members = typing.get_args(annotation)
    if members and all(isinstance(m, type) and issubclass(m, BaseModel) for m in members):
        (merged,) = {names[m] for m in members}  # a union generated as one merged class
        return merged, ""
    if annotation in (str, int, bool, float):
        return annotation.__name__, ""
    raise TypeError(f"no args type for {annotation!r}")


def _default(field: FieldInfo) -> str | None:
    if field.default_factory is not None:
        return None
    if field.default is PydanticUndefined or field.default in (None, ()):
        return None
    if isinstance(field.default, bool):
        return "true" if field.default else "false"  # as every language writes it
    return str(field.default)


def _docstring(text: str, indent: str, wrap: bool = True) -> list[str]:
    """A docstring; unwrapped for fields, whose docstrings Pulumi's analyzer copies into every
    language's SDK as they are written, line breaks and indentation included."""
    words, lines, line = text.split(), [], ""
    width = 96 - len(indent) if wrap else 10**6
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    lines[0] = '"""' + lines[0]
    lines[-1] += '"""'
    return [f"{indent}{line}" for line in lines]


def render_module(doc: str, classes: list[Args]) -> str:
    registry = _registry()
    local = {member: name for name, spec, _ in classes for member in _members(spec)}
    names = {spec: name for spec, (_, name) in registry.items()} | local
    body: list[str] = []
    for name, spec, exclude in classes:
        text = _members(spec)[0].__doc__ if not isinstance(spec, tuple) else None
        body += ["", "", f"class {name}(TypedDict):", *_docstring(text or _union_doc(spec), "    ")]
        body.append("")
        for attribute, annotation, required, default, description in _fields(spec, exclude):
            python, allowed = _type(annotation, names)
            text = " ".join(
                part
                for part in (description, allowed, f"Default: {default}." if default else "")
                if part
            )
            body.append(f"    {attribute}: {python if required else f'NotRequired[{python}]'}")
            body += _docstring(text, "    ", wrap=False)
    used = {word for line in body for word in re.findall(r"\b\w+Args\b", line)}
    imports = sorted(
        {
            (module, name)
            for spec, (module, name) in registry.items()
            if name in used and spec not in local
        }
    )
    out = [*_docstring(doc, ""), ""]
    out += [
        "# No `from __future__ import annotations`: Pulumi's component analyzer reads these",
        "# annotations as types.",
        "from typing import NotRequired, TypedDict",
    ]
    modules: dict[str, list[str]] = {}
    for module, name in imports:
        modules.setdefault(module, []).append(name)
    if modules:
        out.append("")
        out += [f"from {module} import {', '.join(found)}" for module, found in modules.items()]
    return "\n".join(out + body) + "\n"


def _union_doc(spec: type[BaseModel] | tuple[type[BaseModel], ...]) -> str:
    members = _members(spec)
    tags = ", ".join(_tag(m) for m in members)
    return f"One of {tags}, each with its own keys: " + " ".join(
        f"{_tag(m)}: {(m.__doc__ or '').strip()}" for m in members
    )


def main(write: Annotated[bool, typer.Option(help="Rewrite the generated modules.")] = False):
    for path, (doc, classes) in MODULES.items():
        text = render_module(doc, classes)
        if write:
            (ROOT / path).write_text(text)
        else:
            typer.echo(f"# {path}\n{text}")


if __name__ == "__main__":
    typer.run(main)
