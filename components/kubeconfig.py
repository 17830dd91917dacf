"""Kubeconfigs that authenticate with short-lived tokens from an exec plugin, so no long-lived
credential is ever stored in state (pure data)."""

from __future__ import annotations

import json
from typing import Any

EXEC_API = "client.authentication.k8s.io/v1beta1"


def _kubeconfig(name: str, endpoint: str, ca_data: str, exec_: dict[str, Any]) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [{"name": name, "user": {"exec": exec_}}],
        }
    )


def render_eks(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """Kubeconfig using `aws eks get-token` (the AWS CLI, with the caller's AWS credentials)."""
    return _kubeconfig(
        cluster_name,
        endpoint,
        ca_data,
        {
            "apiVersion": EXEC_API,
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
            "interactiveMode": "Never",
        },
    )


def render_gke(cluster_name: str, endpoint: str, ca_data: str) -> str:
    """Kubeconfig using `gke-gcloud-auth-plugin` (with the caller's Google credentials)."""
    return _kubeconfig(
        cluster_name,
        f"https://{endpoint}",
        ca_data,
        {
            "apiVersion": EXEC_API,
            "command": "gke-gcloud-auth-plugin",
            "provideClusterInfo": True,
            "interactiveMode": "Never",
        },
    )
