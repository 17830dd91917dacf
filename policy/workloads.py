"""Policy rules on the Kubernetes workloads a program registers (pure; see policy/rules.py):
pinned images, GPU workloads on GPU pools, memory limits, a NetworkPolicy per application
namespace, no secret in plain inputs."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policy.images import images, is_vllm, unpinned
from policy.model import Resource, Stack, Violation, known

POOL_LABEL = "gpuplatform.io/pool"
CLASS_LABEL = "cloud.google.com/compute-class"  # a GKE ComputeClass, whose tiers are pools
NAMESPACE_ROLE_LABEL = "gpuplatform.io/namespace-role"
GPU_RESOURCES = re.compile(r"^nvidia\.com/(gpu|mig-[0-9a-z.]+)$")
GPU_TAINT = ("nvidia.com/gpu", "present", "NoSchedule")  # GKE sets it on GPU nodes itself
CLOUD_EFFECTS = {
    "NO_SCHEDULE": "NoSchedule",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
    "NO_EXECUTE": "NoExecute",
}
# A name that holds a secret value (not one naming a Secret, such as `secretName`).
SECRET_NAME = re.compile(
    r"(token|password|passwd|secret|api_?key|private_?key|access_?key|webhook(_?url)?)$", re.I
)


# --- pinned images --------------------------------------------------------------------------


def pinned_images(resource: Resource, _: Stack) -> Iterator[str]:
    for where, image in images(resource.inputs):
        if unpinned(image):
            yield f"{where} = {image!r} is not pinned; use a release tag or digest"
        elif is_vllm(image) and "@sha256:" not in image:
            yield (
                f"{where} = {image!r}: the vLLM server image is pinned by digest "
                "(tag@sha256:...), which no one can move"
            )


# --- GPU workloads on GPU pools -------------------------------------------------------------


def _requests_gpus(resource: Resource) -> bool:
    for container in resource.containers():
        for kind in ("limits", "requests"):  # (`claims` is a list of names)
            amounts = (container.get("resources") or {}).get(kind) or {}
            if isinstance(amounts, Mapping) and any(GPU_RESOURCES.match(k) for k in amounts):
                return True
    return False


def _pool_taints(resources: Sequence[Resource]) -> dict[tuple[str, str], list[tuple]]:
    """(label, value) identifying each GPU pool of the stack -> its NoSchedule/NoExecute
    taints as (key, value, effect)."""
    pools: dict[tuple[str, str], list[tuple]] = {}
    for r in resources:
        if r.type == "aws:eks/nodeGroup:NodeGroup":
            node_labels, taints = r.inputs.get("labels") or {}, list(r.inputs.get("taints") or [])
        elif r.type == "gcp:container/nodePool:NodePool":
            config = r.inputs.get("nodeConfig") or {}
            node_labels, taints = config.get("labels") or {}, list(config.get("taints") or [])
            # GKE taints GPU nodes nvidia.com/gpu=present itself and admits pods that request
            # GPUs with the toleration added: nothing for the pod to declare.
        else:
            continue
        found = [
            (t.get("key"), t.get("value"), CLOUD_EFFECTS.get(t.get("effect"), t.get("effect")))
            for t in taints
        ]
        hard = [t for t in found if t[2] in ("NoSchedule", "NoExecute")]
        for label in (POOL_LABEL, CLASS_LABEL):
            if label in node_labels:
                pools.setdefault((label, node_labels[label]), []).extend(hard)
    return pools


def _selected(pod: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The pools a pod may run on: its nodeSelector, or its required node affinity's values
    of the pool (or ComputeClass) label."""
    selector = pod.get("nodeSelector") or {}
    chosen = [(label, selector[label]) for label in (POOL_LABEL, CLASS_LABEL) if label in selector]
    if chosen:
        return chosen
    required = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    return [
        (expression["key"], value)
        for term in required.get("nodeSelectorTerms") or []
        for expression in term.get("matchExpressions") or []
        if expression.get("key") in (POOL_LABEL, CLASS_LABEL) and expression.get("operator") == "In"
        for value in expression.get("values") or []
    ]


def _tolerates(tolerations: list[Mapping[str, Any]], taint: tuple) -> bool:
    key, value, effect = taint
    for t in tolerations:
        if t.get("effect") not in (None, "", effect):
            continue
        if t.get("operator") == "Exists" and t.get("key") in (None, "", key):
            return True
        if t.get("key") == key and t.get("value") == value:
            return True
    return False


def gpu_placement(resources: Sequence[Resource], _: Stack) -> Iterator[Violation]:
    pools = _pool_taints(resources)
    for r in resources:
        if not _requests_gpus(r):
            continue
        pod = r.pod_spec() or {}
        chosen = _selected(pod)
        if not known(pod.get("nodeSelector"), pod.get("affinity"), *(v for _, v in chosen)):
            continue  # chosen at deploy time
        if not chosen:
            yield Violation(
                r,
                f"requests GPUs but selects no GPU pool: set nodeSelector (or a required node "
                f"affinity) on {POOL_LABEL}",
            )
            continue
        tolerations = pod.get("tolerations") or []
        expected = [(GPU_TAINT[0], None, "NoSchedule")] if not pools else []
        for label, value in chosen:
            if pools and (label, value) not in pools:
                yield Violation(r, f"selects {label}={value}, which no node pool of the stack has")
                continue
            for taint in pools.get((label, value), expected):
                # GKE admits a pod that selects a ComputeClass onto its tainted nodes itself.
                if taint[0] == CLASS_LABEL and label == CLASS_LABEL:
                    continue
                if not _tolerates(tolerations, taint):
                    key, value_, effect = taint
                    shown = f"{key}={value_}" if value_ else key
                    yield Violation(
                        r, f"does not tolerate {shown}:{effect}, a taint of {label}={value}"
                    )


# --- container memory limits ----------------------------------------------------------------


def memory_limits(resource: Resource, _: Stack) -> Iterator[str]:
    for container in resource.containers():
        resources = container.get("resources") or {}
        limits = resources.get("limits") or {}
        if not known(resources, limits):
            continue
        if "memory" not in limits:
            yield (
                f"container {container.get('name')!r} has no memory limit: one container could "
                "take the node's memory from every other pod on it"
            )


# --- network policies per application namespace ---------------------------------------------


def namespace_network_policy(resources: Sequence[Resource], _: Stack) -> Iterator[Violation]:
    covered = {
        (r.inputs.get("metadata") or {}).get("namespace")
        for r in resources
        if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    }
    if not known(*covered):
        return  # a policy whose namespace is known only at deploy may cover any of them
    for r in resources:
        if r.type != "kubernetes:core/v1:Namespace":
            continue
        metadata = r.inputs.get("metadata") or {}
        if not known(metadata.get("name"), metadata.get("labels")):
            continue
        if (metadata.get("labels") or {}).get(NAMESPACE_ROLE_LABEL) == "platform":
            continue
        if metadata.get("name") not in covered:
            yield Violation(
                r,
                f"namespace {metadata.get('name')!r} has no NetworkPolicy: every pod in it is "
                f"reachable from every other namespace (label platform namespaces "
                f"{NAMESPACE_ROLE_LABEL}: platform)",
            )


# --- no secret in plain inputs --------------------------------------------------------------


def no_plain_secrets(resource: Resource, _: Stack) -> Iterator[str]:
    for container in resource.containers():
        for variable in container.get("env") or []:
            name = str(variable.get("name", ""))
            if SECRET_NAME.search(name) and variable.get("value") not in (None, ""):
                yield (
                    f"container {container.get('name')!r} sets {name} as a plain value, which "
                    "anyone who can read the pod sees; take it from a Secret (valueFrom)"
                )
    if resource.type == "kubernetes:core/v1:ConfigMap":
        for key in resource.inputs.get("data") or {}:
            if SECRET_NAME.search(key):
                yield f"data.{key} looks like a secret in a ConfigMap; put it in a Secret"
