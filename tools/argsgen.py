"""Writes the public components' typed args from the config specs, so one model holds each
setting's type, default and description (the stack config, its README reference and every
language's component schema read the same words).

    python -m tools.argsgen                 # print the generated modules
    python -m tools.argsgen --write         # rewrite them (`make docs` does)

A test fails when a generated module differs from what this prints.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from gpu_platform.data.spec import BackupsSpec, VectorStoreSpec
from gpu_platform.observability.spec import AlertsSpec, ObservabilitySpec, SlackSpec
from gpu_platform.pools import NodePoolSpec, SharingSpec
from gpu_platform.pricing import PricingSpec
from gpu_platform.serving.spec import KvShapeSpec, ModelSpec

ROOT = Path(__file__).resolve().parent.parent


class Args(NamedTuple):
    """One generated TypedDict: its name, the spec it mirrors and the spec's fields it leaves
    out (those the component sets itself)."""

    name: str
    spec: type[BaseModel]
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
                frozenset({"engine", "mode", "accept_changes"}),
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
}


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
    names = {spec: name for name, spec, _ in classes}
    out = [*_docstring(doc, ""), ""]
    out += [
        "# No `from __future__ import annotations`: Pulumi's component analyzer reads these",
        "# annotations as types.",
        "from typing import NotRequired, TypedDict",
    ]
    for name, spec, exclude in classes:
        out += ["", "", f"class {name}(TypedDict):", *_docstring(spec.__doc__ or name, "    "), ""]
        for attribute, field in spec.model_fields.items():
            if attribute in exclude:
                continue
            python, allowed = _type(field.annotation, names)
            required = field.is_required()
            default = _default(field)
            text = " ".join(
                part
                for part in (
                    field.description or "",
                    allowed,
                    f"Default: {default}." if default else "",
                )
                if part
            )
            out.append(f"    {attribute}: {python if required else f'NotRequired[{python}]'}")
            out += _docstring(text, "    ", wrap=False)
    return "\n".join(out) + "\n"


def main(write: Annotated[bool, typer.Option(help="Rewrite the generated modules.")] = False):
    for path, (doc, classes) in MODULES.items():
        text = render_module(doc, classes)
        if write:
            (ROOT / path).write_text(text)
        else:
            typer.echo(f"# {path}\n{text}")


if __name__ == "__main__":
    typer.run(main)
