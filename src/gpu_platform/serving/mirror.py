"""The model mirror (pure data): where a hub revision lives in the stack's weights bucket, and
the Job that puts it there (gpu_platform/serving/weights_mirror.py is its script).

One Job per model and revision runs on the system nodes with the pinned vLLM image (its Python
has huggingface_hub, boto3 and google-cloud-storage), as the `model-mirror` service account,
which alone may write the bucket (EKS Pod Identity or GKE Workload Identity). Its name carries
the revision, so a new revision is a new Job, and a revision already mirrored finishes at once
(the script checks the manifest). Model servers wait for it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from gpu_platform import labels, versions
from gpu_platform.catalog import Cloud
from gpu_platform.job_pod import render_script_pod
from gpu_platform.serving import coldstart
from gpu_platform.serving.exposure import CREDENTIAL_ENDPOINTS, NOT_PUBLIC
from gpu_platform.serving.spec import ModelSpec

SERVICE_ACCOUNT = "model-mirror"
CONFIG_MAP = "model-mirror-script"
SCRIPT = "weights_mirror.py"
MOUNT = "/opt/mirror"
LABELS = {"app.kubernetes.io/name": "model-mirror", labels.PART_OF_LABEL: "gpu-platform"}
# The largest file on local disk at once (a weights shard), with room to spare.
SCRATCH_GIB = 50
UID = 10000


def script() -> str:
    return (Path(__file__).parent / SCRIPT).read_text()


def prefix(model: ModelSpec) -> str:
    """`models/<org>/<name>/<revision>` in the bucket."""
    return f"models/{model.source}/{model.revision}"


def url(bucket: str, model: ModelSpec) -> str:
    """`bucket`: `s3://name` or `gs://name`."""
    return f"{bucket}/{prefix(model)}/"


def job_name(model_name: str, model: ModelSpec) -> str:
    return f"mirror-{model_name}-{(model.revision or '')[:8]}"


def deadline_seconds(model: ModelSpec) -> int:
    """Download, verify and upload, three times the hub download estimate, at least 30 min
    (for every attempt together: a retry keeps what was uploaded)."""
    hub = coldstart.weight_bytes(model) / coldstart.HUB_BYTES_PER_SECOND
    return max(1800, math.ceil(3 * hub))


def render_config_map(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIG_MAP, "namespace": namespace, "labels": dict(LABELS)},
        "data": {SCRIPT: script()},
    }


def render_job(
    model_name: str,
    model: ModelSpec,
    namespace: str,
    bucket: str,
    cloud_env: dict[str, str],
    hf_token_secret: str | None,
    image: str = versions.VLLM_IMAGE,
) -> dict[str, Any]:
    """`bucket`: `s3://name` or `gs://name`; `cloud_env`: what the cloud's client library needs
    (cloud_env()); `image`: where the node pulls the pinned vLLM image (GKE: the image
    cache)."""
    env: list[dict[str, Any]] = [
        {"name": "MODEL", "value": model.source},
        {"name": "REVISION", "value": model.revision},
        {"name": "BUCKET", "value": bucket},
        {"name": "PREFIX", "value": prefix(model)},
        *({"name": k, "value": v} for k, v in sorted(cloud_env.items())),
        {"name": "HF_HOME", "value": "/scratch/hf"},
        # The uid has no passwd entry in the image.
        {"name": "HOME", "value": "/tmp"},
        {"name": "USER", "value": "mirror"},
        {"name": "LOGNAME", "value": "mirror"},
        {"name": "HF_HUB_DISABLE_TELEMETRY", "value": "1"},
    ]
    if hf_token_secret is not None:
        env.append(
            {
                "name": "HF_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": hf_token_secret, "key": "HF_TOKEN"}},
            }
        )
    pod_labels = {**LABELS, "gpuplatform.io/model": model_name}
    pod = render_script_pod(
        pod_labels=pod_labels,
        image=image,
        command=["python3", f"{MOUNT}/{SCRIPT}"],
        env=env,
        config_map=CONFIG_MAP,
        mount=MOUNT,
        uid=UID,
        container="mirror",
        resources={"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
        scratch_gib=SCRATCH_GIB,
    )
    pod["spec"]["serviceAccountName"] = SERVICE_ACCOUNT
    # cluster-autoscaler never removes a node while a mirror runs on it.
    pod["metadata"]["annotations"] = {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(model_name, model),
            "namespace": namespace,
            "labels": pod_labels,
        },
        "spec": {
            # A pod may start before EKS admits its new Pod Identity association (no
            # credentials): a few retries, each keeping the weights already uploaded.
            "backoffLimit": 4,
            "activeDeadlineSeconds": deadline_seconds(model),
            # A node drained or scaled down is not the mirror's failure.
            "podFailurePolicy": {
                "rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]
            },
            "template": pod,
        },
    }


def cloud_env(cloud: Cloud, region: str, project: str | None) -> dict[str, str]:
    """boto3's region; google-cloud-storage's project (the metadata server would tell it too)."""
    if cloud == "aws":
        return {"AWS_REGION": region}
    return {"GOOGLE_CLOUD_PROJECT": project or ""}


def render_network_policy(namespace: str, cloud: Cloud) -> dict[str, Any]:
    """The mirror reaches DNS, HTTPS on public addresses (the hub, its CDN, the object store;
    Google APIs answer there too) and the cloud's credential endpoints (EKS Pod Identity agent,
    GKE metadata server); nothing reaches it."""
    credentials = [
        {"to": [{"ipBlock": {"cidr": cidr}}], "ports": [{"protocol": "TCP", "port": port}]}
        for cidr, port in CREDENTIAL_ENDPOINTS[cloud]
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "model-mirror", "namespace": namespace, "labels": dict(LABELS)},
        "spec": {
            "podSelector": {"matchLabels": dict(LABELS)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            }
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                },
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(NOT_PUBLIC)}}],
                    "ports": [{"protocol": "TCP", "port": 443}],
                },
                *credentials,
            ],
        },
    }
