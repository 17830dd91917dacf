"""The plan diff example in README.md: the markdown comment a pull request gets for one real
change to the prod stack (its GPU pool `l4-spot` moved to g6.2xlarge, its batch pool
removed), computed from two offline plans of the program.

    python -m tools.diffexample                   # print the example
    python -m tools.diffexample --write README.md # replace the block between the markers

A test fails when README.md's block differs from what this prints.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from tools import diffplan, diffreport, plan

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- plan-diff-example:start -->"
END = "<!-- plan-diff-example:end -->"
STACK = "prod"


def change(platform: dict[str, Any]) -> dict[str, Any]:
    """The example's change to a stack's platform config."""
    changed = copy.deepcopy(platform)
    changed["nodePools"]["l4-spot"]["instanceTypes"] = ["g6.2xlarge"]
    del changed["nodePools"]["l4-batch-spot"]
    return changed


def changed_plan() -> dict[str, Any]:
    """The plan of the prod stack file with `change` applied (a JSON document)."""
    path = ROOT / f"Pulumi.{STACK}.yaml"
    document = yaml.safe_load(path.read_text())
    key = "gpu-platform:platform"
    document["config"][key] = change(document["config"][key])
    with tempfile.TemporaryDirectory() as directory:
        changed = Path(directory) / path.name
        changed.write_text(yaml.safe_dump(document))
        return _json(plan.build_plan(STACK, changed).as_json())


def _json(document: dict[str, Any]) -> dict[str, Any]:
    """The document as the plan's JSON file holds it."""
    return json.loads(json.dumps(document))


def render(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The README block: the comment, fenced."""
    comment = diffreport.render_markdown([diffplan.diff(before, after)])
    return f"````markdown\n{comment}````\n"


def replace_block(text: str, block: str) -> str:
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not (start and end):
        raise SystemExit(f"README.md has no {START} ... {END} block")
    return f"{head}{START}\n{block}{END}{tail}"


def main(write: Annotated[Path | None, typer.Option(help="Update this file in place.")] = None):
    before = _json(plan.build_plan(STACK, ROOT / f"Pulumi.{STACK}.yaml").as_json())
    block = render(before, changed_plan())
    if write is None:
        sys.stdout.write(block)
        return
    write.write_text(replace_block(write.read_text(), block))


if __name__ == "__main__":
    typer.run(main)
