"""The vLLM StatefulSet of one model (pure data): arguments, resources, probes, volumes, security.

A StatefulSet rather than a Deployment: each replica keeps its own model-cache volume across
restarts, rescheduling and scale-down, so weights are downloaded once per replica, not once per
pod. Updates replace one replica at a time and need no spare GPU for a surge pod.

Pods run as a non-root user (uid 1000) with every capability dropped, no privilege escalation,
a read-only root filesystem and the RuntimeDefault seccomp profile, which the `restricted` Pod
Security level of the inference namespace requires. The vllm/vllm-openai image defaults to
root but needs no root: HOME points at a writable emptyDir, the model cache at a volume owned
through fsGroup.
"""

from __future__ import annotations

import math
from typing import Any

from components import catalog, labels, versions
from components.catalog import Cloud
from components.labels import MigStrategy
from components.pools import NodePoolSpec, resolved_machine_types
from components.serving.rules import memory_utilization, model_fit
from components.serving.spec import ModelSpec

PORT = 8000
CACHE_DIR = "/cache"
UID = 1000
# Kubernetes' SIGTERM reaches vLLM after preStop; vLLM then stops taking requests. The pod's
# endpoints are removed first; the grace period leaves in-flight generations time to finish.
PRESTOP_SECONDS = 15
GRACE_SECONDS = 180


def app_labels(model_name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "vllm",
        "app.kubernetes.io/instance": model_name,
        labels.PART_OF_LABEL: "gpu-platform",
    }


def served_names(model_name: str, model: ModelSpec) -> list[str]:
    """Names clients may use in requests; metrics carry the first as `model_name`."""
    return [model_name, model.source] if model.from_hub else [model_name]


def render_args(model_name: str, model: ModelSpec, pool: NodePoolSpec) -> list[str]:
    """Arguments of `vllm serve`; every flag is one vLLM accepts."""
    args = [model.source, "--served-model-name", *served_names(model_name, model)]
    args += ["--host", "0.0.0.0", "--port", str(PORT)]
    if model.revision is not None:
        args += ["--revision", model.revision]
    if not model.from_hub:
        args += ["--load-format", "runai_streamer"]  # streams safetensors from s3:// or gs://
    args += [
        "--tensor-parallel-size",
        str(model.gpus_per_replica),
        "--max-model-len",
        str(model.max_model_len),
        "--dtype",
        model.dtype,
        "--gpu-memory-utilization",
        str(memory_utilization(model, pool)),
        "--enable-prefix-caching",
    ]
    if model.quantization is not None:
        args += ["--quantization", model.quantization]
    return args


def render_resources(
    cloud: Cloud, model: ModelSpec, pool: NodePoolSpec, strategy: MigStrategy
) -> dict[str, dict[str, Any]]:
    """CPU and memory: the replica's share of the smallest node type of the pool, less a quarter
    for the kubelet and node agents; GPUs: the resource the pool's nodes advertise."""
    machines = [catalog.machine_type(cloud, t) for t in resolved_machine_types(cloud, pool)]
    smallest = min(machines, key=lambda m: (m.vcpus, m.memory_gib))  # type: ignore[union-attr]
    resource, per_node = next(iter(labels.advertised_resources(cloud, pool, strategy).items()))
    share = model.gpus_per_replica / per_node
    # Floors small enough that every GPU slot of a node still gets a pod.
    millicpu = max(250, math.floor(smallest.vcpus * 1000 * share * 0.75))  # type: ignore[union-attr]
    memory = max(2, math.floor(smallest.memory_gib * share * 0.75))  # type: ignore[union-attr]
    gpus = str(model.gpus_per_replica)
    return {
        "requests": {"cpu": f"{millicpu}m", "memory": f"{memory}Gi", resource: gpus},
        # No CPU limit: throttling the tokenizer and scheduler threads only adds latency.
        "limits": {"memory": f"{memory}Gi", resource: gpus},
    }


def shm_size_gib(model: ModelSpec, memory_gib: int) -> int:
    """Shared memory for NCCL between tensor-parallel workers; counted against the memory limit."""
    return max(1, min(2 * model.gpus_per_replica, memory_gib // 4))


def cache_size_gib(model: ModelSpec, pool: NodePoolSpec) -> int:
    """Room for the weights with a margin for tokenizer files and a second revision."""
    return max(20, math.ceil(model_fit(model, pool).weights_gib * 1.3) + 5)


def render_cache_claim(name: str, namespace: str, model: ModelSpec, pool: NodePoolSpec) -> dict:
    """The model cache claim: one ReadWriteMany claim all replicas share (`cacheStorageClass`),
    or the template of one ReadWriteOnce claim per replica from the default class. A replica's
    claim outlives its pod and a scale-down, so a restarted or rescheduled replica finds its
    weights and does not download them again."""
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteMany" if model.cache_storage_class else "ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{cache_size_gib(model, pool)}Gi"}},
    }
    if model.cache_storage_class is not None:
        spec["storageClassName"] = model.cache_storage_class
        metadata = {"name": f"{name}-cache", "namespace": namespace, "labels": app_labels(name)}
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": metadata,
            "spec": spec,
        }
    return {"metadata": {"name": "cache", "labels": app_labels(name)}, "spec": spec}


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def startup_minutes(model: ModelSpec) -> int:
    """Downloading and loading weights: 10 minutes plus one per 4B parameters."""
    return 10 + math.ceil(model.parameters_b / 4)


def render_workload(
    *,
    name: str,
    namespace: str,
    model_name: str,
    model: ModelSpec,
    pool: NodePoolSpec,
    cloud: Cloud,
    strategy: MigStrategy,
    hf_token_secret: str | None,
    region: str | None = None,
) -> dict:
    pool_name = model.node_pool
    resources = render_resources(cloud, model, pool, strategy)
    memory_gib = int(resources["limits"]["memory"].removesuffix("Gi"))
    shm_gib = shm_size_gib(model, memory_gib)
    env = [
        {"name": "HOME", "value": "/tmp"},
        # uid 1000 has no passwd entry in the image; getpass.getuser() (torch) reads these first.
        {"name": "USER", "value": "vllm"},
        {"name": "LOGNAME", "value": "vllm"},
        {"name": "HF_HOME", "value": f"{CACHE_DIR}/huggingface"},
        {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
        {"name": "DO_NOT_TRACK", "value": "1"},
    ]
    if cloud == "aws" and not model.from_hub and region is not None:
        env.append({"name": "AWS_REGION", "value": region})  # the S3 client's endpoint
    if hf_token_secret is not None and model.from_hub:
        env.append(
            {
                "name": "HF_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": hf_token_secret, "key": "HF_TOKEN"}},
            }
        )
    selector = app_labels(name)
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    container = {
        "name": "vllm",
        "image": model.image or versions.VLLM_IMAGE,
        "command": ["vllm", "serve"],
        "args": render_args(model_name, model, pool),
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": env,
        "resources": resources,
        "startupProbe": _probe("/health", 10, startup_minutes(model) * 6),
        "readinessProbe": _probe("/health", 10, 3),
        "livenessProbe": _probe("/health", 15, 6),
        "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SECONDS}}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "shm", "mountPath": "/dev/shm"},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "cache", "mountPath": CACHE_DIR},
        ],
    }
    cache = render_cache_claim(name, namespace, model, pool)
    shared_cache = model.cache_storage_class is not None
    volumes: list[dict[str, Any]] = [
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{shm_gib}Gi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "10Gi"}},
    ]
    if shared_cache:
        volumes.append({"name": "cache", "persistentVolumeClaim": {"claimName": f"{name}-cache"}})
    spec: dict[str, Any] = {
        "serviceName": name,
        "replicas": model.min_replicas,
        "revisionHistoryLimit": 5,
        # Scale out several replicas at once; updates still replace one replica at a time.
        "podManagementPolicy": "Parallel",
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        "selector": {"matchLabels": selector},
    }
    if not shared_cache:
        spec["volumeClaimTemplates"] = [cache]
        # Keep a scaled-down replica's weights for the next scale-up; delete with the model.
        spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenDeleted": "Delete",
            "whenScaled": "Retain",
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace, "labels": app_labels(name)},
        "spec": {
            **spec,
            "template": {
                "metadata": {
                    "labels": {**selector, labels.POOL_LABEL: pool_name},
                    # cluster-autoscaler never evicts a model server to pack nodes tighter: a
                    # move costs minutes of reloading. Replicas go away when KEDA scales in,
                    # and the emptied node is removed then; drains still honour the PDB.
                    "annotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"},
                },
                "spec": {
                    "serviceAccountName": name,
                    "automountServiceAccountToken": False,
                    "priorityClassName": "inference",
                    "nodeSelector": labels.node_selector(pool_name),
                    "tolerations": labels.tolerations(labels.pool_taints(cloud, pool)),
                    "topologySpreadConstraints": spread,
                    "terminationGracePeriodSeconds": GRACE_SECONDS,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "fsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }
