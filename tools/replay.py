"""A naive Pulumi program that replays a recorded plan's registrations: the benchmark's floor.

    python -m tools.replay recording.json [--import-sdk-modules]

It registers the same resources, with the same inputs, parents, providers and dependencies,
under the same mock engine as the offline plan, but as plain `pulumi.CustomResource` /
`ComponentResource` / `ProviderResource` objects: nothing of the platform's own code runs, and
only `pulumi` is imported, with the interpreter's default settings. With
`--import-sdk-modules` it first imports exactly the `pulumi_*` modules the plan loaded, which
any program using the SDKs' typed classes pays for. `tools/bench.py` times the plan against both.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pulumi

from tools.mockdata import PlanMocks
from tools.mockengine import run_program

_PROVIDER_PREFIX = "pulumi:providers:"


def _order(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resources in an order where parents, providers and dependencies come first."""
    pending = {f"{r['type']}::{r['name']}": r for r in resources}
    done: set[str] = set()
    ordered: list[dict[str, Any]] = []
    while pending:
        ready = [
            key
            for key, r in pending.items()
            if all(
                ref is None or ref in done or ref not in pending
                for ref in (r["parent"], r["provider"], *r["options"]["dependsOn"])
            )
        ]
        if not ready:
            raise ValueError(f"the recording's dependencies form a cycle: {sorted(pending)}")
        for key in ready:
            ordered.append(pending.pop(key))
            done.add(key)
    return ordered


def replay(resources: list[dict[str, Any]]) -> None:
    """Register `resources` (the plan JSON's `resources`) as a program would."""
    created: dict[str, pulumi.Resource] = {}
    for r in _order(resources):
        key = f"{r['type']}::{r['name']}"
        opts = pulumi.ResourceOptions(
            parent=created.get(r["parent"] or ""),
            provider=created.get(r["provider"] or ""),  # type: ignore[arg-type]
            depends_on=[created[d] for d in r["options"]["dependsOn"] if d in created],
            protect=r["options"]["protect"],
            retain_on_delete=r["options"]["retainOnDelete"],
            ignore_changes=r["options"]["ignoreChanges"] or None,
            replace_on_changes=r["options"]["replaceOnChanges"] or None,
            delete_before_replace=r["options"]["deleteBeforeReplace"] or None,
            custom_timeouts=(
                pulumi.CustomTimeouts(**r["options"]["customTimeouts"])
                if r["options"]["customTimeouts"]
                else None
            ),
        )
        if r["type"].startswith(_PROVIDER_PREFIX):
            package = r["type"].removeprefix(_PROVIDER_PREFIX)
            created[key] = pulumi.ProviderResource(package, r["name"], r["inputs"], opts)
        elif r["custom"]:
            created[key] = pulumi.CustomResource(r["type"], r["name"], r["inputs"], opts)
        else:
            created[key] = pulumi.ComponentResource(r["type"], r["name"], None, opts)


def main(argv: list[str]) -> None:
    document = json.loads(Path(argv[0]).read_text())
    if "--import-sdk-modules" in argv:
        for name in document["sdkModules"]:
            module = importlib.import_module(name)
            getattr(module, "__name__", None)  # loads a lazily imported module
    run_program(
        lambda: replay(document["resources"]),
        project=document["project"],
        stack=document["stack"],
        config={},
        engine_mocks=PlanMocks(),
    )


if __name__ == "__main__":
    main(sys.argv[1:])
