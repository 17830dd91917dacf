"""Benchmark of the offline plan against two floors, and of how its cost grows (prints numbers;
asserts nothing).

    python -m tools.bench run [--rounds 7]

For dev and prod it times, each in a fresh process and in alternating rounds (medians):

- plan: `python -m tools.plan --stack-file <stack> --quiet`;
- floor 1: `tools.replay` registering the same resources under the same mock engine as a naive
  program that imports only `pulumi`;
- floor 2: floor 1 after importing exactly the `pulumi_*` modules the plan loaded, the cost any
  program using the SDKs' typed classes pays;

and prints plan / floor ratios. Then it times plans of generated stacks of 1, 4, 16 and 48 GPU
pools, each serving one model, so that growth that is not linear in resources shows.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from stacks.keys import CONFIG_KEY, PROJECT

ROOT = Path(__file__).resolve().parent.parent
STACKS = {"dev": ROOT / "Pulumi.dev.yaml", "prod": ROOT / "Pulumi.prod.yaml"}
GROWTH = (1, 4, 16, 48)

app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


def _seconds(command: list[str]) -> float:
    """Wall time of one fresh process, as a user running it sees it."""
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


@app.command(hidden=True)
def capture(stack_file: Path, out: Path) -> None:
    """Plan a stack in this process; write its registrations and the SDK modules it loaded."""
    from tools import plan  # noqa: PLC0415 (the modules it loads are what is measured)

    result = plan.build_plan(stack_file.stem.removeprefix("Pulumi."), stack_file)
    loaded = sorted(
        name
        for name, module in list(sys.modules.items())
        if name.startswith("pulumi_") and type(module).__name__ != "_LazyModule"
    )
    document = {**result.as_json(), "sdkModules": loaded}
    out.write_text(json.dumps(document))


def _floors(work: Path) -> dict[str, dict[str, list[str]]]:
    commands = {}
    for stack, path in STACKS.items():
        recording = work / f"{stack}.json"
        subprocess.run(
            _python("-m", "tools.bench", "capture", str(path), str(recording)), cwd=ROOT, check=True
        )
        commands[stack] = {
            "plan": _python("-m", "tools.plan", "--stack-file", str(path), "--quiet"),
            "floor 1": _python("-m", "tools.replay", str(recording)),
            "floor 2": _python("-m", "tools.replay", str(recording), "--import-sdk-modules"),
        }
    return commands


def _growth_stack(pools: int) -> dict[str, Any]:
    """A dev stack with `pools` L4 spot pools, each serving one model."""
    document = yaml.safe_load(STACKS["dev"].read_text())
    platform = document["config"][f"{PROJECT}:{CONFIG_KEY}"]
    platform["nodePools"] = {
        f"l4-{i}": {"gpu": "l4", "gpusPerNode": 1, "capacity": "spot", "maxNodes": 2}
        for i in range(pools)
    }
    model = platform["models"].pop("qwen-7b")
    platform["models"] = {f"m-{i}": {**model, "nodePool": f"l4-{i}"} for i in range(pools)}
    return document


@app.command()
def run(rounds: Annotated[int, typer.Option(min=1, help="Alternating rounds.")] = 7) -> None:
    """Time plan, floor 1 and floor 2 per stack, then the growth table."""
    load = os.getloadavg()[0]
    typer.echo(f"{os.cpu_count()} cores, load average {load:.2f}, {rounds} rounds, medians")
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        commands = _floors(work)
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for stack, kinds in commands.items():
                for kind, command in kinds.items():
                    times.setdefault((stack, kind), []).append(_seconds(command))
        resources = {
            s: len(json.loads((work / f"{s}.json").read_text())["resources"]) for s in STACKS
        }
        typer.echo(
            f"{'stack':<6}{'resources':>10}{'plan s':>9}{'floor 1 s':>11}{'floor 2 s':>11}"
            f"{'plan/floor 1':>14}{'plan/floor 2':>14}"
        )
        for stack in STACKS:
            plan, floor1, floor2 = (
                statistics.median(times[(stack, k)]) for k in ("plan", "floor 1", "floor 2")
            )
            typer.echo(
                f"{stack:<6}{resources[stack]:>10}{plan:>9.2f}{floor1:>11.2f}{floor2:>11.2f}"
                f"{plan / floor1:>14.2f}{plan / floor2:>14.2f}"
            )

        typer.echo(f"\n{'pools':<6}{'resources':>10}{'plan s':>9}{'ms/resource':>13}")
        for pools in GROWTH:
            path = work / f"Pulumi.growth-{pools}.yaml"
            path.write_text(yaml.safe_dump(_growth_stack(pools)))
            out = work / f"growth-{pools}.json"
            plan_command = _python("-m", "tools.plan", "--stack-file", str(path), "--quiet")
            seconds = statistics.median(
                _seconds([*plan_command, "--json", str(out)]) for _ in range(3)
            )
            count = len(json.loads(out.read_text())["resources"])
            typer.echo(f"{pools:<6}{count:>10}{seconds:>9.2f}{seconds * 1000 / count:>13.1f}")
    typer.echo(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    app()
