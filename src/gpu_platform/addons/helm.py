"""Helm releases the way every add-on installs them: pinned chart, atomic upgrades, bounded
history."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def release(
    resource_name: str,
    *,
    chart: tuple[str, str, str],
    version: str | None = None,
    namespace: str,
    values: pulumi.Input[dict[str, Any]],
    timeout: int,
    opts: pulumi.ResourceOptions,
    release_name: str | None = None,
) -> k8s.helm.v3.Release:
    """A `helm.v3.Release` of a pinned `(chart, version, repository)` that rolls back a failed
    install or upgrade (atomic) and keeps ten revisions. `version` overrides the pin (from
    `addons.chartVersions`); `timeout` is in seconds."""
    name, pinned, repo = chart
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name or name,
        chart=name,
        version=version or pinned,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        max_history=10,
        timeout=timeout,
        opts=opts,
    )
