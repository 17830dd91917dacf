"""The models a Platform serves: one VllmService per model, the Hugging Face token Secret they
read, object-store access for their weights, and on GKE the ComputeClasses of their tiers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import image_pull, labels, versions
from gpu_platform.args import pool_args
from gpu_platform.data.backup_bucket import BackupBucket, BackupBucketArgs
from gpu_platform.gcp import compute_class
from gpu_platform.manifests import register_custom
from gpu_platform.platform import derived
from gpu_platform.platform.spec import PlatformSpec
from gpu_platform.serving import mirror
from gpu_platform.serving.model_mirror import ModelMirror, ModelMirrorArgs
from gpu_platform.serving.spec import ModelSpec
from gpu_platform.serving.vllm_service import NAMESPACE as SERVING_NAMESPACE
from gpu_platform.serving.vllm_service import VllmService, VllmServiceArgs
from gpu_platform.serving.vllm_service import resource_name as vllm_resource_name
from gpu_platform.serving.weights_access import ModelWeightsAccess, ModelWeightsAccessArgs

if TYPE_CHECKING:
    from gpu_platform.platform.component import Platform

HF_TOKEN_SECRET = "hf-token"
# A replaced or deleted object of the weights bucket stays recoverable this long (the bucket's
# noncurrent versions expire after it, plus the bucket's grace period).
WEIGHTS_VERSIONS_DAYS = 30


def models(
    platform: Platform, name: str, config: PlatformSpec, token: pulumi.Input[str] | None
) -> dict[str, VllmService]:
    """One VllmService per model, and the Hugging Face token Secret they read (with `token`)."""
    served: dict[str, VllmService] = {}
    if not config.models:
        return served
    provider = platform.cluster.k8s_provider
    namespace = platform.base.namespaces[SERVING_NAMESPACE]
    secret_name = None
    if token is not None and any(m.from_hub for m in config.models.values()):
        secret = k8s.core.v1.Secret(
            f"{name}-hf-token",
            metadata={"name": HF_TOKEN_SECRET, "namespace": SERVING_NAMESPACE},
            string_data={"HF_TOKEN": token},
            type="Opaque",
            opts=pulumi.ResourceOptions(parent=platform, provider=provider, depends_on=[namespace]),
        )
        secret_name = HF_TOKEN_SECRET
        ready: list[pulumi.Resource] = [namespace, secret]
    else:
        ready = [namespace]
    if config.cloud.provider == "gcp":
        ready += _compute_classes(platform, name, config)
    mirrored = _mirror(platform, name, config, ready, secret_name)
    for model_name, model in config.models.items():
        access = None
        weights = mirrored.urls.get(model_name) if mirrored else None
        if not model.from_hub or weights is not None:
            access = ModelWeightsAccess(
                f"{name}-{model_name}-weights",
                ModelWeightsAccessArgs(
                    cloud=config.cloud.provider,
                    source=weights or model.source,
                    namespace=SERVING_NAMESPACE,
                    service_account=vllm_resource_name(model_name),
                    provider=platform.cloud_provider,
                    cluster_name=platform.cluster.cluster_name,
                    partition=getattr(config.cloud, "partition", "aws"),
                    project=getattr(config.cloud, "project", None),
                    region=config.cloud.region,
                    private_google_apis=config.cluster.create,
                ),
                opts=pulumi.ResourceOptions(parent=platform),
            )
        served[model_name] = VllmService(
            f"{name}-{model_name}",
            _service_args(platform, config, model_name, model, secret_name, access, weights),
            opts=pulumi.ResourceOptions(
                parent=platform,
                providers=[provider],
                depends_on=[
                    *([mirrored.jobs[model_name]] if weights is not None and mirrored else []),
                    *ready,
                    *(platform.node_pools[tier] for tier in model.tiers),
                    platform.base,
                    platform.gpu_operator,
                    platform.prometheus.ready,
                    *(access.ready if access else []),
                ],
            ),
        )
    return served


def _service_args(
    platform: Platform,
    config: PlatformSpec,
    model_name: str,
    model: ModelSpec,
    token_secret: str | None,
    access: ModelWeightsAccess | None,
    weights: pulumi.Output[str] | None,
) -> VllmServiceArgs:
    """The model's VllmService args from the stack config (the component checks them again)."""
    args = VllmServiceArgs(
        model_name=model_name,
        model=model.model_dump(exclude_none=True),  # type: ignore[typeddict-item]
        pools={t: pool_args(config.node_pools[t]) for t in model.tiers},  # type: ignore[misc]
        cloud=config.cloud.provider,
        kubernetes_version=config.cluster.kubernetes_version,
        keda_release=platform.keda.ready,
        mig_strategy=labels.mig_strategy(config.node_pools),
        monitoring=True,
        region=config.cloud.region,
        zones=list(derived.model_zones(config, model)),
        production=config.production,
        image=_image(platform, config, model.image or versions.VLLM_IMAGE),
    )
    if token_secret is not None:
        args["hf_token_secret"] = token_secret
    if access is not None:
        args["service_account_annotations"] = access.service_account_annotations
        if access.object_store is not None:
            args["object_store"] = access.object_store
    if platform.keda.http_ready is not None:
        args["http_add_on_release"] = platform.keda.http_ready
    if weights is not None:
        args["weights"] = weights
    if config.cloud.provider == "gcp" and len(model.tiers) > 1:
        args["compute_class"] = compute_class.class_name(model.tiers)  # _compute_classes made it
    return args


def _mirror(
    platform: Platform,
    name: str,
    config: PlatformSpec,
    ready: list[pulumi.Resource],
    token_secret: str | None,
) -> ModelMirror | None:
    """The stack's weights bucket (private, encrypted, versioned, protected in production;
    written only by the mirror's service account) and the verified mirror of each hub model
    with a revision."""
    models = {n: m for n, m in config.models.items() if m.mirrored()}
    if not models:
        return None
    cloud = config.cloud
    bucket = BackupBucket(
        f"{name}-model-weights",
        BackupBucketArgs(
            cloud=cloud.provider,
            production=config.production,
            retention_days=WEIGHTS_VERSIONS_DAYS,
            namespace=SERVING_NAMESPACE,
            service_account=mirror.SERVICE_ACCOUNT,
            provider=platform.cloud_provider,
            cluster_name=platform.cluster.cluster_name,
            partition=getattr(cloud, "partition", "aws"),
            project=getattr(cloud, "project", None),
            region=cloud.region,
            purpose="Mirrors model weights",
        ),
        opts=pulumi.ResourceOptions(parent=platform),
    )
    return ModelMirror(
        f"{name}-model-mirror",
        ModelMirrorArgs(
            models=models,
            bucket=bucket.url,
            cloud=cloud.provider,
            namespace=SERVING_NAMESPACE,
            region=cloud.region,
            project=getattr(cloud, "project", None),
            service_account_annotations=bucket.service_account_annotations,
            k8s_provider=platform.cluster.k8s_provider,
            hf_token_secret=token_secret,
            image=_image(platform, config, versions.VLLM_IMAGE),
            depends_on=[
                *ready,
                *bucket.ready,
                platform.base,
                *(platform.image_cache.ready if platform.image_cache else []),
            ],
        ),
        opts=pulumi.ResourceOptions(parent=platform),
    )


def _image(platform: Platform, config: PlatformSpec, image: str) -> str:
    """Where the nodes pull `image`: on GKE a Docker Hub image comes through the stack's image
    cache (streamed), elsewhere as it is."""
    cache = platform.image_cache
    if cache is None:
        return image
    return image_pull.cached_image(
        image,
        region=config.cloud.region,
        project=getattr(config.cloud, "project", ""),
        repository=cache.repository_id,
    )


def _compute_classes(platform: Platform, name: str, config: PlatformSpec) -> list[pulumi.Resource]:
    """GKE: a ComputeClass per tier list, naming GKE's node pools in the models' order."""
    return [
        register_custom(
            f"{name}-{class_name}",
            compute_class.render_compute_class(
                class_name, [platform.node_pools[pool].node_pool_name for pool in tiers]
            ),
            pulumi.ResourceOptions(parent=platform, provider=platform.cluster.k8s_provider),
        )
        for class_name, tiers in compute_class.classes(config.models).items()
    ]
