"""The pod of the platform's data Jobs (pure data): one script from a ConfigMap, run as the
image's unprivileged postgres user on the system nodes, meeting the `restricted` Pod Security
level."""

from __future__ import annotations

from typing import Any

from components import labels

POSTGRES_UID = 26  # the postgres user of CloudNativePG's images, which the Jobs run


def render_script_pod(
    *,
    pod_labels: dict[str, str],
    image: str,
    command: list[str],
    env: list[dict[str, Any]],
    config_map: str,
    mount: str,
) -> dict[str, Any]:
    """A pod template: `command` in `image` with `config_map` mounted read-only at `mount`."""
    return {
        "metadata": {"labels": dict(pod_labels)},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "nodeSelector": labels.node_selector(labels.SYSTEM_POOL),
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": POSTGRES_UID,
                "runAsGroup": POSTGRES_UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "script",
                    "image": image,
                    "command": command,
                    "env": env,
                    "volumeMounts": [{"name": "script", "mountPath": mount, "readOnly": True}],
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "64Mi"},
                        "limits": {"memory": "128Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
            "volumes": [{"name": "script", "configMap": {"name": config_map}}],
        },
    }
