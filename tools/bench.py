"""Benchmark of the offline plan: wall time per stack, per run and per registered resource.

    python -m tools.bench [--runs 5]

Prints numbers; it asserts nothing. Runs happen in one process after a warm-up run, so SDK
import time is reported separately.
"""

from __future__ import annotations

import statistics
import time
from typing import Annotated

import typer

STACKS = {"dev": "Pulumi.dev.yaml", "prod": "Pulumi.prod.yaml", "gcp-dev": "examples/gcp-dev.yaml"}


def main(runs: Annotated[int, typer.Option(min=1, help="Timed runs per stack.")] = 5) -> None:
    started = time.perf_counter()
    from tools import plan  # noqa: PLC0415 (timed: it imports the cloud SDKs)

    typer.echo(f"imports: {(time.perf_counter() - started) * 1000:.0f} ms")
    typer.echo(f"{'stack':<10}{'resources':>10}{'median ms':>12}{'ms/resource':>14}")
    for stack, path in STACKS.items():
        plan.build_plan(stack, plan.ROOT / path)  # warm-up
        timings, count = [], 0
        for _ in range(runs):
            begin = time.perf_counter()
            result = plan.build_plan(stack, plan.ROOT / path)
            timings.append((time.perf_counter() - begin) * 1000)
            count = len(result.recording.resources)
        median = statistics.median(timings)
        typer.echo(f"{stack:<10}{count:>10}{median:>12.0f}{median / count:>14.2f}")


if __name__ == "__main__":
    typer.run(main)
