"""The Kubernetes Pod Security Standards (baseline and restricted levels) as a check of pod
specs, so that workloads rendered from Helm charts can be held to their namespace's level before
a cluster's admission controller does it. Follows
https://kubernetes.io/docs/concepts/security/pod-security-standards/ (the controls that concern
what charts set; sysctls, AppArmor and SELinux options are not checked).
"""

from __future__ import annotations

from typing import Any

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
LEVELS = ("privileged", "baseline", "restricted")
WORKLOAD_KINDS = frozenset({"Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicaSet"})


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload or a Pod, else None."""
    if manifest.get("kind") == "Pod":
        return manifest.get("spec") or {}
    if manifest.get("kind") in WORKLOAD_KINDS:
        return ((manifest.get("spec") or {}).get("template") or {}).get("spec") or {}
    if manifest.get("kind") == "CronJob":
        job = ((manifest.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}
        return (job.get("template") or {}).get("spec") or {}
    return None


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *(spec.get("initContainers") or []),
        *(spec.get("containers") or []),
        *(spec.get("ephemeralContainers") or []),
    ]


def baseline_violations(spec: dict[str, Any]) -> list[str]:
    found = [f"host{n}" for n in ("Network", "PID", "IPC") if spec.get(f"host{n}")]
    found += [
        f"hostPath volume {v.get('name')}" for v in spec.get("volumes") or [] if "hostPath" in v
    ]
    pod_seccomp = ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
    if pod_seccomp == "Unconfined":
        found.append("seccomp Unconfined")
    for c in _containers(spec):
        context = c.get("securityContext") or {}
        name = c.get("name")
        if context.get("privileged"):
            found.append(f"{name}: privileged")
        added = set((context.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            found.append(f"{name}: adds {sorted(added)}")
        if any(p.get("hostPort") for p in c.get("ports") or []):
            found.append(f"{name}: hostPort")
        if context.get("procMount") not in (None, "Default"):
            found.append(f"{name}: procMount")
        if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(f"{name}: seccomp Unconfined")
    return found


def restricted_violations(spec: dict[str, Any]) -> list[str]:
    found = baseline_violations(spec)
    pod = spec.get("securityContext") or {}
    found += [
        f"volume {v.get('name')} of a restricted type"
        for v in spec.get("volumes") or []
        if not set(v) - {"name"} <= RESTRICTED_VOLUMES
    ]
    for c in _containers(spec):
        context = c.get("securityContext") or {}
        name = c.get("name")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation not false")
        if not context.get("runAsNonRoot", pod.get("runAsNonRoot")):
            found.append(f"{name}: runAsNonRoot not true")
        if context.get("runAsUser", pod.get("runAsUser")) == 0:
            found.append(f"{name}: runAsUser 0")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"{name}: does not drop ALL capabilities")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: adds capabilities")
        seccomp = (context.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: no RuntimeDefault seccomp profile")
    return found


def violations(spec: dict[str, Any], level: str) -> list[str]:
    """What a pod spec does that the Pod Security `level` forbids."""
    if level == "restricted":
        return restricted_violations(spec)
    if level == "baseline":
        return baseline_violations(spec)
    return []
