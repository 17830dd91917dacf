"""The URNs a plan's resources get, and the snapshot of the shipped stacks' URNs that the tests
hold them to: a refactoring (a module moved, a component's interface changed) must not rename a
resource, or `pulumi up` deletes it and creates another.

    python -m tools.urns                      # print each shipped stack's URNs
    python -m tools.urns --write tests/urns   # rewrite the snapshot (only for a change that
                                              # means to create or delete resources)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

PROJECT = "gpu-platform"


def by_urn(plan: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each resource of a plan's JSON document under `<parent types $ type>::<name>`, the part
    of its URN after the stack and project (the engine names a resource by its parents' types,
    not their names)."""
    by_key = {f"{r['type']}::{r['name']}": r for r in plan.get("resources", [])}

    def chain(r: Mapping[str, Any]) -> str:
        types, parent = [r["type"]], r.get("parent")
        while parent in by_key:
            types.append(by_key[parent]["type"])
            parent = by_key[parent].get("parent")
        return "$".join(reversed(types))

    return {f"{chain(r)}::{r['name']}": r for r in by_key.values()}


def urns(plan: Mapping[str, Any], stack: str) -> list[str]:
    """The full URNs, sorted."""
    return sorted(f"urn:pulumi:{stack}::{PROJECT}::{key}" for key in by_urn(plan))


def main(
    write: Annotated[Path | None, typer.Option(help="Write <stack>.txt files here.")] = None,
) -> None:
    from tools import plan  # noqa: PLC0415 (the SDKs load only when the CLI runs)

    root = Path(__file__).resolve().parent.parent
    files = {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml"): p for p in root.glob("Pulumi.*.yaml")
    }
    files |= {p.stem: p for p in (root / "examples").glob("*.yaml")}
    for stack, path in sorted(files.items()):
        document = json.loads(json.dumps(plan.build_plan(stack, path).as_json()))
        lines = "\n".join(urns(document, stack)) + "\n"
        if write is None:
            typer.echo(lines, nl=False)
        else:
            write.mkdir(parents=True, exist_ok=True)
            (write / f"{stack}.txt").write_text(lines)


if __name__ == "__main__":
    typer.run(main)
