"""Writes the platform's Grafana dashboards as JSON into `dashboards/` for review.

    python -m tools.dashboards --write dashboards

The program provisions the same JSON (gpu_platform/observability/dashboards.py); the test suite
checks that the files here are current.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gpu_platform.observability import dashboards

app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


@app.command()
def main(write: Annotated[Path, typer.Option(help="The folder to write into.")]) -> None:
    write.mkdir(parents=True, exist_ok=True)
    for name in dashboards.DASHBOARDS:
        (write / f"{name}.json").write_text(dashboards.render(name))
        typer.echo(f"{write / name}.json")


if __name__ == "__main__":
    app()
