"""Offline plan: run the real `__main__.py` under Pulumi's mock engine and show what a stack would
create and what it would cost. Needs no cloud, no Pulumi CLI and no network.

    python -m tools.plan --stack dev
    python -m tools.plan --stack-file examples/gcp-dev.yaml --json plan.json --manifests out/

Findings of severity error are violations of mandatory policy rules (policy/rules.py, the
same rules the CrossGuard pack enforces at `pulumi up`); warnings are advisory.

Exit codes: 0 the program ran; 3 with `--strict`, it ran but a finding of severity error stands
(the report and files are still written); 2 the stack config is invalid (the problems are
listed on stderr); 1 anything else.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    # Importing and building a stack creates hundreds of thousands of long-lived objects (SDK
    # classes, protobuf messages, futures) and few cycles worth freeing in this short-lived
    # process, yet the collector re-scans them again and again, and once more at exit: about a
    # third of the plan's time. So the CLI collects nothing from its first import on, and
    # freezes everything before exit, which the interpreter's final collection then skips.
    gc.disable()

# The imports follow the collector setting above (ruff: E402 is ignored for this file).
import json
import runpy
import sys
import traceback
from pathlib import Path
from typing import Annotated

import pulumi
import typer
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: the project's packages come from here

from gpu_platform.platform import derived
from gpu_platform.quotas import quota_needs
from stacks import checks
from stacks import config as stack_config
from stacks import estimate as stack_estimate
from tools import findings, report, stackfile
from tools.mockdata import PlanMocks
from tools.mockengine import run_program

EXIT_OK, EXIT_ERROR, EXIT_INVALID_CONFIG, EXIT_ERROR_FINDINGS = 0, 1, 2, 3

app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


class InvalidConfig(Exception):
    """The stack file or its config is invalid; the message is for the user as is."""


def _stack_name(stack: str | None, stack_file: Path | None) -> str:
    if stack:
        return stack
    if stack_file is not None:
        return stack_file.stem.removeprefix("Pulumi.")
    return "dev"


def build_plan(stack: str, path: Path) -> report.Plan:
    """Run the program for one stack file and collect resources, outputs, cost and findings."""
    try:
        stack_file = stackfile.read(path, stack_config.PROJECT)
    except stackfile.StackFileError as error:
        raise InvalidConfig(str(error)) from None
    raw = stack_file.get(f"{stack_config.PROJECT}:{stack_config.CONFIG_KEY}")
    if raw is None:
        raise InvalidConfig(
            f"{path}: missing {stack_config.PROJECT}:{stack_config.CONFIG_KEY}, the stack's "
            "platform config"
        )
    # Validate before running so a bad config stops here with nothing registered; the program
    # validates again through pulumi.Config exactly as `pulumi up` would.
    problems = checks.provider_key_problems(stack_file.config)
    problems += checks.unknown_project_key_problems(stack_file.config)
    problems += checks.plaintext_secret_problems(stack_file.config, stack_file.secret_keys)
    if problems:
        raise InvalidConfig(str(stack_config.ConfigError(problems)))
    try:
        config = stack_config.parse(raw)
    except stack_config.ConfigError as error:
        raise InvalidConfig(str(error)) from None
    unused, missing = checks.receiver_secret_problems(config, stack_file.config)
    if unused:
        raise InvalidConfig(str(stack_config.ConfigError(unused)))
    # Offline, a receiver's credential the stack file does not hold yet gets a stand-in, and
    # the plan says that `pulumi up` needs it.
    stack_file = stack_file.with_stand_ins(missing)
    unset = [
        findings.Finding("missing-secret", "warning", None, checks.missing_secret_problem(key))
        for key in missing
    ]
    token_key = f"{stack_config.PROJECT}:{stack_config.HF_TOKEN_KEY}"
    gated = checks.gated_model_problems(config, has_token=token_key in stack_file.config)
    if gated:
        raise InvalidConfig(str(stack_config.ConfigError(gated)))

    cloud = config.cloud
    recording = run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        project=stack_config.PROJECT,
        stack=stack,
        config=stack_file.config,
        secret_keys=stack_file.secret_keys,
        engine_mocks=PlanMocks(
            region=cloud.region, project=getattr(cloud, "project", None) or "mock-project"
        ),
    )
    estimate = stack_estimate.estimate(config)
    starts = derived.cold_starts(config)
    return report.Plan(
        project=stack_config.PROJECT,
        stack=stack,
        recording=recording,
        cost=estimate,
        findings=[
            *unset,
            *findings.check(recording.resources, stack_file.config),
            *findings.slow_cold_starts(starts),
        ],
        region=cloud.region,
        quotas=tuple(quota_needs(cloud.provider, stack_estimate.effective_pools(config))),
        wake_ups=stack_estimate.wake_ups(config),
        cold_starts=starts,
    )


@app.command()
def main(
    stack: Annotated[
        str | None, typer.Option(help="Stack name; reads Pulumi.<stack>.yaml. Default: dev.")
    ] = None,
    stack_file: Annotated[
        Path | None,
        typer.Option(
            help="Read this file (Pulumi stack file format) instead of Pulumi.<stack>.yaml."
        ),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the plan as JSON to this path.")
    ] = None,
    manifests: Annotated[
        Path | None,
        typer.Option(help="Write Kubernetes manifests and Helm values files to this directory."),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="Do not print the text report.")] = False,
    strict: Annotated[
        bool,
        typer.Option(help="Exit 3 when a mandatory rule is violated (an error finding)."),
    ] = False,
) -> None:
    """Show what a stack would create and what it would cost, with no cloud access."""
    name = _stack_name(stack, stack_file)
    path = stack_file if stack_file is not None else ROOT / f"Pulumi.{name}.yaml"
    try:
        plan = build_plan(name, path)
    except (InvalidConfig, stack_config.ConfigError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_INVALID_CONFIG) from None
    except pulumi.ConfigMissingError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_INVALID_CONFIG) from None
    except Exception:
        typer.echo(f"offline plan of stack {name} failed:\n{traceback.format_exc()}", err=True)
        raise typer.Exit(EXIT_ERROR) from None

    if not quiet:
        out = Console(highlight=False)
        if not out.is_terminal:
            out = Console(highlight=False, width=140)
        report.render_text(plan, out)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        # allow_nan=False: a NaN or infinity would be invalid JSON; better to fail loudly.
        text = json.dumps(plan.as_json(), indent=2, sort_keys=False, allow_nan=False)
        json_path.write_text(text + "\n")
    if manifests is not None:
        written = report.write_manifests(plan.recording, manifests)
        typer.echo(f"wrote {len(written)} manifest files to {manifests}", err=True)
    errors = [f for f in plan.findings if f.severity == "error"]
    if errors:
        typer.echo(
            f"{len(errors)} finding(s) of severity error (mandatory rules); see the report",
            err=True,
        )
        if strict:
            raise typer.Exit(EXIT_ERROR_FINDINGS)


if __name__ == "__main__":
    try:
        app()
    finally:
        gc.freeze()  # see the collector setting at the top
