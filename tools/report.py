"""Renders an offline plan: the text report, the JSON document and the Kubernetes manifests."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from gpu_platform.cost import CostEstimate
from gpu_platform.quotas import QuotaNeed
from gpu_platform.serving.coldstart import ColdStart, ModelStart, hold_seconds
from tools.findings import Finding
from tools.mockengine import Recording, Registration

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


@dataclass(frozen=True)
class Plan:
    """What one offline run produced."""

    project: str
    stack: str
    recording: Recording
    cost: CostEstimate
    findings: list[Finding]
    region: str = ""
    quotas: tuple[QuotaNeed, ...] = ()
    wake_ups: tuple[tuple[str, ColdStart], ...] = ()
    """Models that scale to zero, with how long their first request after idle waits."""
    cold_starts: tuple[ModelStart, ...] = ()
    """Every model's estimated start on a new node and on a node that already ran it."""

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.as_json() for r in self.recording.resources],
            "outputs": self.recording.outputs,
            "cost": self.cost.as_json(),
            "quotas": {"region": self.region, "needs": [q.as_json() for q in self.quotas]},
            "findings": [f.as_json() for f in self.findings],
            "coldStarts": {
                s.model: {
                    "coldNodeSeconds": s.cold.total_seconds,
                    "warmNodeSeconds": s.warm.total_seconds,
                    "budgetSeconds": s.budget_seconds,
                    "parts": dict(s.cold.parts()),
                }
                for s in self.cold_starts
            },
            "scaleToZero": {
                name: {
                    "wakeUpSeconds": start.total_seconds,
                    "nodeSeconds": start.node_seconds,
                    "imageSeconds": start.image_seconds,
                    "weightsSeconds": start.weights_seconds,
                    "warmupSeconds": start.warmup_seconds,
                    "holdSeconds": hold_seconds(start),
                }
                for name, start in self.wake_ups
            },
        }


def _join(values: Any) -> str:
    if isinstance(values, dict):
        return ",".join(f"{k}={v}" for k, v in values.items())
    return ",".join(map(str, values)) if isinstance(values, list) else str(values)


# Key facts shown next to a resource in the tree: (input path, label). Paths are dotted;
# numbers index lists. Types without an entry show the generic keys.
_FACTS_BY_TYPE: dict[str, tuple[tuple[str, str], ...]] = {
    "pulumi:providers:aws": (("region", "region"),),
    "pulumi:providers:gcp": (("project", "project"), ("region", "region")),
    "aws:eks/cluster:Cluster": (("version", "k8s"), ("upgradePolicy.supportType", "support")),
    "aws:eks/addon:Addon": (("addonVersion", "version"),),
    "aws:eks/nodeGroup:NodeGroup": (
        ("nodeGroupNamePrefix", "name"),
        ("instanceTypes", "types"),
        ("capacityType", "capacity"),
        ("scalingConfig.minSize", "min"),
        ("scalingConfig.maxSize", "max"),
        ("amiType", "ami"),
        ("releaseVersion", "release"),
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": (
        ("instanceType", "type"),
        ("instanceMarketOptions.marketType", "market"),
        (
            "capacityReservationSpecification.capacityReservationTarget.capacityReservationId",
            "reservation",
        ),
        ("blockDeviceMappings.0.ebs.volumeSize", "diskGiB"),
        ("metadataOptions.httpTokens", "imds"),
    ),
    "gcp:container/cluster:Cluster": (
        ("minMasterVersion", "k8s"),
        ("releaseChannel.channel", "channel"),
    ),
    "gcp:container/nodePool:NodePool": (
        ("name", "name"),
        ("nodeConfig.machineType", "machine"),
        ("nodeConfig.guestAccelerators.0.type", "gpu"),
        ("nodeConfig.guestAccelerators.0.count", "count"),
        ("nodeConfig.guestAccelerators.0.gpuPartitionSize", "mig"),
        ("nodeConfig.guestAccelerators.0.gpuSharingConfig.maxSharedClientsPerGpu", "shared"),
        ("nodeConfig.spot", "spot"),
        ("nodeConfig.reservationAffinity.values", "reservation"),
        ("autoscaling.totalMinNodeCount", "min"),
        ("autoscaling.totalMaxNodeCount", "max"),
    ),
    HELM_RELEASE: (("chart", "chart"), ("version", "version"), ("namespace", "namespace")),
    "kubernetes:apps/v1:Deployment": (
        ("spec.template.spec.containers.0.image", "image"),
        ("spec.template.spec.nodeSelector", "on"),
    ),
    "kubernetes:apps/v1:StatefulSet": (
        ("spec.template.spec.containers.0.image", "image"),
        ("spec.template.spec.nodeSelector", "on"),
    ),
    "kubernetes:keda.sh/v1alpha1:ScaledObject": (
        ("spec.minReplicaCount", "min"),
        ("spec.maxReplicaCount", "max"),
    ),
}
_GENERIC_FACTS = (("version", "version"), ("image", "image"))


def _dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def facts(resource: Registration) -> str:
    """A one-line summary of the inputs that matter most for a resource."""
    shown = []
    for path, label in _FACTS_BY_TYPE.get(resource.type, _GENERIC_FACTS):
        value = _dig(resource.inputs, path)
        if value is not None and value is not False and value not in ("", []):
            shown.append(f"{label}={_join(value)}")
    if resource.options.get("protect"):
        shown.append("protected")
    return "  ".join(shown)


def render_text(plan: Plan, console: Console) -> None:
    resources = plan.recording.resources
    console.print(
        f"[bold]{plan.project}[/] stack [bold]{plan.stack}[/]: {len(resources)} resources"
    )
    root = Tree("resources", guide_style="dim")
    nodes: dict[str | None, Tree] = {None: root}
    for r in resources:
        label = f"[cyan]{r.type}[/] [bold]{r.name}[/]"
        detail = facts(r)
        parent = nodes.get(r.parent, root)
        nodes[r.key] = parent.add(f"{label}  [dim]{detail}[/]" if detail else label)
    console.print(root)

    counts = Table(title="resources by type", title_justify="left")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for type_, count in sorted(Counter(r.type for r in resources).items()):
        counts.add_row(type_, str(count))
    console.print(counts)

    _render_cost(plan.cost, console)
    _render_quotas(plan, console)
    _render_cold_starts(plan, console)
    _render_wake_ups(plan, console)

    if plan.recording.outputs:
        console.print("[bold]outputs[/]")
        for name, value in plan.recording.outputs.items():
            console.print(f"  {name}: {json.dumps(value)}", markup=False, highlight=False)

    if plan.findings:
        console.print(f"[bold red]findings ({len(plan.findings)})[/]")
        for f in plan.findings:
            where = f" {f.resource}" if f.resource else ""
            console.print(f"  {f.severity} {f.rule}{where}: {f.message}", markup=False)
    else:
        console.print("findings: none")


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _render_cost(cost: CostEstimate, console: Console) -> None:
    table = Table(
        title=f"estimated monthly cost ({cost.currency}, list prices as of {cost.as_of})",
        title_justify="left",
    )
    columns = ("item", "type", "capacity", "nodes", "per node-hour", "baseline / month")
    for column in columns:
        table.add_column(column, justify="right" if column[0] in "pb" else "left")
    table.add_column("burst / month", justify="right")
    table.add_column("max / month", justify="right")
    for item in cost.items:
        table.add_row(
            item.name,
            item.machine_type or "-",
            item.capacity or "-",
            f"{item.nodes_min}-{item.nodes_max}",
            _money(item.usd_per_node_hour),
            _money(item.monthly_min),
            _money(item.monthly_burst),
            _money(item.monthly_max),
        )
    table.add_section()
    table.add_row(
        "total",
        "",
        "",
        "",
        "",
        _money(cost.monthly_min),
        _money(cost.monthly_burst),
        _money(cost.monthly_max),
    )
    console.print(table)
    console.print(f"[dim]prices: {cost.source}[/]")


def _render_cold_starts(plan: Plan, console: Console) -> None:
    if not plan.cold_starts:
        return
    table = Table(
        title="model cold starts (estimated; gpu_platform/serving/coldstart.py)",
        title_justify="left",
    )
    for column in ("model", "on a new node", "on a node that ran it", "budget"):
        table.add_column(column)
    for s in plan.cold_starts:
        table.add_row(
            s.model, s.cold.describe(), s.warm.describe(), f"{s.budget_seconds // 60} min"
        )
    console.print(table)


def _render_wake_ups(plan: Plan, console: Console) -> None:
    if not plan.wake_ups:
        return
    table = Table(
        title="models that scale to zero: no GPU cost while idle; the first request after idle "
        "waits for a replica",
        title_justify="left",
    )
    for column in ("model", "expected wake-up", "request held up to"):
        table.add_column(column)
    for name, start in plan.wake_ups:
        table.add_row(name, start.describe(), f"{hold_seconds(start) // 60} min")
    console.print(table)


def _render_quotas(plan: Plan, console: Console) -> None:
    if not plan.quotas:
        return
    table = Table(
        title=f"cloud quotas the GPU pools draw on in {plan.region} (request raises before the "
        "first up)",
        title_justify="left",
    )
    for column in ("quota", "unit", "at min", "at max", "pools"):
        table.add_column(column, justify="right" if column.startswith("at") else "left")
    for q in plan.quotas:
        table.add_row(q.quota, q.unit, str(q.at_min), str(q.at_max), ", ".join(q.pools))
    console.print(table)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _file_name(*parts: str) -> str:
    return "-".join(_UNSAFE.sub("_", p) for p in parts if p)


def _manifest(r: Registration) -> dict[str, Any] | None:
    """The object as kubectl would show it: apiVersion, kind, metadata, then the rest."""
    if "apiVersion" not in r.inputs or "kind" not in r.inputs:
        return None
    head = ("apiVersion", "kind", "metadata")
    rest = sorted(k for k in r.inputs if k not in head and not k.startswith("__"))
    return {k: r.inputs[k] for k in (*head, *rest) if k in r.inputs}


def _release_values(r: Registration) -> tuple[str, str]:
    repo = (r.inputs.get("repositoryOpts") or {}).get("repo", "")
    header = (
        f"# Helm release {r.inputs.get('name', r.name)} "
        f"(namespace {r.inputs.get('namespace', 'default')})\n"
        f"# chart: {r.inputs.get('chart', '')}\n"
        f"# repo: {repo}\n"
        f"# version: {r.inputs.get('version', '')}\n"
    )
    body = yaml.safe_dump(r.inputs.get("values") or {}, sort_keys=True)
    return f"{r.inputs.get('name', r.name)}.values.yaml", header + body


def write_manifests(recording: Recording, directory: Path) -> list[Path]:
    """Write each Kubernetes object as YAML and each Helm release's values; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for r in recording.resources:
        if r.type == HELM_RELEASE:
            file_name, text = _release_values(r)
        elif r.type.startswith("kubernetes:") and (manifest := _manifest(r)) is not None:
            meta = manifest.get("metadata") or {}
            # A patch changes some fields of an object something else owns; it is not the object.
            kind = str(manifest["kind"]).lower() + ("-patch" if r.type.endswith("Patch") else "")
            stem = _file_name(
                kind,
                meta.get("namespace") or "",
                meta.get("name") or r.name,
            )
            file_name, text = f"{stem}.yaml", yaml.safe_dump(manifest, sort_keys=False)
        else:
            continue
        path = directory / file_name
        path.write_text(text)
        written.append(path)
    return written
