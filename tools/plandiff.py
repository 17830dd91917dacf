"""Compare offline plans: what a change creates, updates, replaces and deletes, what it does to
the monthly bill, and which findings it adds or resolves.

    python -m tools.plandiff base/prod.json head/prod.json
    python -m tools.plandiff base/ head/ --format markdown --output comment.md

BASE and HEAD are two plan JSON files of one stack (`make plan JSON=...`), or two directories
of `<stack>.json` files, compared stack by stack (a stack on one side only is all created or
all deleted).

Exit codes: 0 the plans were compared; 3 with `--fail-on-stateful-change`, a stateful resource
(cluster, node pool, database, bucket, volume, vector store, key) would be replaced or deleted;
2 a plan could not be read.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: the project's packages come from here

from tools import diffplan, diffreport  # noqa: E402

EXIT_OK, EXIT_UNREADABLE, EXIT_STATEFUL = 0, 2, 3

app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


class Format(StrEnum):
    text = "text"
    markdown = "markdown"


class Unreadable(Exception):
    """A plan file or directory cannot be read; the message is for the user as is."""


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise Unreadable(f"{path}: not a plan JSON file ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise Unreadable(f"{path}: not a plan JSON file (no resources list)")
    return document


def pairs(base: Path, head: Path) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(stack, base plan, head plan) to compare; `{}` for a side the stack is missing from."""
    if base.is_dir() != head.is_dir():
        raise Unreadable(f"{base} and {head}: give two files or two directories")
    if not base.is_dir():
        before, after = _read(base), _read(head)
        return [(after.get("stack") or before.get("stack") or head.stem, before, after)]
    stacks = sorted({p.stem for d in (base, head) for p in d.glob("*.json")})
    if not stacks:
        raise Unreadable(f"{base} and {head}: no <stack>.json plans in either")
    return [
        (
            stack,
            _read(base / f"{stack}.json") if (base / f"{stack}.json").exists() else {},
            _read(head / f"{stack}.json") if (head / f"{stack}.json").exists() else {},
        )
        for stack in stacks
    ]


@app.command()
def main(
    base: Annotated[Path, typer.Argument(help="The plan (or directory of plans) before.")],
    head: Annotated[Path, typer.Argument(help="The plan (or directory of plans) after.")],
    output_format: Annotated[
        Format, typer.Option("--format", help="text, or markdown for a pull-request comment.")
    ] = Format.text,
    output: Annotated[
        Path | None, typer.Option(help="Write the report here instead of to stdout.")
    ] = None,
    max_chars: Annotated[
        int, typer.Option(help="Markdown: the most characters the comment may have.")
    ] = diffreport.GITHUB_COMMENT_LIMIT,
    fail_on_stateful_change: Annotated[
        bool, typer.Option(help="Exit 3 when a stateful resource would be replaced or deleted.")
    ] = False,
) -> None:
    """Compare two offline plans (or two directories of them, stack by stack)."""
    try:
        diffs = [diffplan.diff(before, after, stack) for stack, before, after in pairs(base, head)]
    except Unreadable as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None
    if output_format is Format.markdown:
        text = diffreport.render_markdown(diffs, max_chars)
    else:
        text = diffreport.render_text(diffs)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    else:
        typer.echo(text, nl=False)
    if fail_on_stateful_change and any(c.destructive for d in diffs for c in d.changes):
        raise typer.Exit(EXIT_STATEFUL)


if __name__ == "__main__":
    app()
