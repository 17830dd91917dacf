"""The pod of the platform's Jobs (pure data): one script from a ConfigMap, run unprivileged on
the system nodes, meeting the `restricted` Pod Security level. The data Jobs run as the postgres
user of their images; the model mirror as the vLLM image's unprivileged uid, with scratch disk."""

from __future__ import annotations

from typing import Any

from gpu_platform import labels

POSTGRES_UID = 26  # the postgres user of CloudNativePG's images, which the data Jobs run
SMALL = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}


def render_script_pod(
    *,
    pod_labels: dict[str, str],
    image: str,
    command: list[str],
    env: list[dict[str, Any]],
    config_map: str,
    mount: str,
    uid: int = POSTGRES_UID,
    container: str = "script",
    resources: dict[str, Any] | None = None,
    scratch_gib: int | None = None,
) -> dict[str, Any]:
    """A pod template: `command` in `image` with `config_map` mounted read-only at `mount`;
    `scratch_gib` adds an emptyDir of that size at /scratch, whose `tmp` folder is /tmp."""
    mounts: list[dict[str, Any]] = [{"name": "script", "mountPath": mount, "readOnly": True}]
    volumes: list[dict[str, Any]] = [{"name": "script", "configMap": {"name": config_map}}]
    if scratch_gib is not None:
        mounts += [
            {"name": "scratch", "mountPath": "/scratch"},
            {"name": "scratch", "mountPath": "/tmp", "subPath": "tmp"},
        ]
        volumes.append({"name": "scratch", "emptyDir": {"sizeLimit": f"{scratch_gib}Gi"}})
    return {
        "metadata": {"labels": dict(pod_labels)},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "nodeSelector": labels.node_selector(labels.SYSTEM_POOL),
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": uid,
                "runAsGroup": uid,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": container,
                    "image": image,
                    "command": command,
                    "env": env,
                    "volumeMounts": mounts,
                    "resources": resources or SMALL,
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
            "volumes": volumes,
        },
    }
