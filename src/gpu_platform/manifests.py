"""Registering a rendered custom resource (a dict with apiVersion, kind, metadata and spec)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def register_custom(
    name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest["metadata"],
        spec=manifest["spec"],
        opts=opts,
    )
