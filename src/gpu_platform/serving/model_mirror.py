"""ModelMirror: the Jobs that mirror hub models into the stack's weights bucket.

Registers the `model-mirror` service account (the bucket's only writer, through EKS Pod
Identity or GKE Workload Identity set up with the bucket), the script's ConfigMap, a
NetworkPolicy and one Job per model and revision (gpu_platform/serving/mirror.py). Pulumi waits
for each Job to complete, and the model's servers depend on it, so they never start on a
mirror that is not verified.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import versions
from gpu_platform.catalog import Cloud
from gpu_platform.options import child_of
from gpu_platform.serving import mirror
from gpu_platform.serving.spec import ModelSpec

TOKEN = "gpuplatform:serving:ModelMirror"


@dataclass(frozen=True)
class ModelMirrorArgs:
    models: Mapping[str, ModelSpec]
    """The models to mirror (hub models with a revision)."""
    bucket: pulumi.Input[str]
    """The weights bucket, `s3://name` or `gs://name`."""
    cloud: Cloud
    namespace: str
    region: str
    k8s_provider: k8s.Provider
    project: str | None = None
    """GKE: the bucket's project."""
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """What the writer's identity needs on its service account (GKE Workload Identity)."""
    hf_token_secret: str | None = None
    image: str = versions.VLLM_IMAGE
    """Where the node pulls the pinned vLLM image (GKE: the stack's image cache)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class ModelMirror(pulumi.ComponentResource):
    """One verified mirror Job per model, and where each model's weights end up."""

    jobs: dict[str, pulumi.Resource]
    urls: dict[str, pulumi.Output[str]]
    """`s3://` or `gs://bucket/models/<org>/<name>/<revision>/` per model."""

    def __init__(
        self, name: str, args: ModelMirrorArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TOKEN, name, None, opts)
        child = functools.partial(child_of, self, args.k8s_provider)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={
                "name": mirror.SERVICE_ACCOUNT,
                "namespace": args.namespace,
                "labels": dict(mirror.LABELS),
                "annotations": dict(args.service_account_annotations),
            },
            automount_service_account_token=False,
            opts=child(args.depends_on),
        )
        script = mirror.render_config_map(args.namespace)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-script",
            metadata=script["metadata"],
            data=script["data"],
            opts=child(args.depends_on),
        )
        policy = mirror.render_network_policy(args.namespace, args.cloud)
        env = mirror.cloud_env(args.cloud, args.region, args.project)
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol",
            metadata=policy["metadata"],
            spec=policy["spec"],
            opts=child(args.depends_on),
        )
        bucket = pulumi.Output.from_input(args.bucket)
        self.jobs, self.urls = {}, {}
        for model_name, model in args.models.items():
            manifest = bucket.apply(
                lambda b, m=model, n=model_name: mirror.render_job(
                    n, m, args.namespace, b, env, args.hf_token_secret, args.image
                )
            )
            minutes = f"{mirror.deadline_seconds(model) // 60 + 10}m"
            self.jobs[model_name] = k8s.batch.v1.Job(
                f"{name}-{model_name}",
                metadata=mirror.render_job(model_name, model, args.namespace, "", env, None)[
                    "metadata"
                ],
                spec=manifest.apply(lambda m: m["spec"]),
                opts=child(
                    [*args.depends_on, account, config_map],
                    custom_timeouts=pulumi.CustomTimeouts(create=minutes, update=minutes),
                    # A Job's pod template cannot change: a new revision is a new Job.
                    delete_before_replace=True,
                ),
            )
            self.urls[model_name] = bucket.apply(lambda b, m=model: mirror.url(b, m))
        self.register_outputs({})
