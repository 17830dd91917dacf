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


def render_eks(
    cluster_name: str,
    endpoint: str,
    ca_data: str,
    region: str,
    *,
    role_arn: str | None = None,
    profile: str | None = None,
) -> str:
    """Kubeconfig using `aws eks get-token` with the identity the AWS provider uses: the same
    profile (AWS_PROFILE) and the same assumed role (--role-arn), or the ambient credentials."""
    args = ["eks", "get-token", "--cluster-name", cluster_name, "--region", region]
    if role_arn is not None:
        args += ["--role-arn", role_arn]
    exec_: dict[str, Any] = {
        "apiVersion": EXEC_API,
        "command": "aws",
        "args": args,
        "interactiveMode": "Never",
    }
    if profile is not None:
        exec_["env"] = [{"name": "AWS_PROFILE", "value": profile}]
    return _kubeconfig(cluster_name, endpoint, ca_data, exec_)


def render_gke(cluster_name: str, endpoint: str, ca_data: str) -> str:
    """Kubeconfig using `gke-gcloud-auth-plugin` with application-default credentials, the ones
    the Google provider uses, so both act as one identity (also under CI's workload identity
    federation, where no gcloud login exists)."""
    return _kubeconfig(
        cluster_name,
        f"https://{endpoint}",
        ca_data,
        {
            "apiVersion": EXEC_API,
            "command": "gke-gcloud-auth-plugin",
            "args": ["--use_application_default_credentials"],
            "provideClusterInfo": True,
            "interactiveMode": "Never",
        },
    )
