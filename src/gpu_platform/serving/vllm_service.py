"""VllmService: one model served by vLLM on its GPU pool, autoscaled by KEDA on vLLM's metrics.

Registers a ServiceAccount, the shared model cache claim (with a ReadWriteMany class), the
StatefulSet, a ClusterIP Service, a PodDisruptionBudget (several replicas), a NetworkPolicy,
the KEDA ScaledObject (after KEDA's CRDs) and, once the stack runs Prometheus, a PodMonitor.

A public component: typed args (VllmServiceArgs, the model as gpu_platform.serving.model_args
and its pools as gpu_platform.pool_args), its Kubernetes provider through `opts`, checked at
construction by the stack config's own model and pool rules. No `from __future__ import
annotations`: Pulumi's component analyzer reads the annotations.
"""

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform.args import (
    check,
    component_type,
    depends_on,
    from_args,
    mig_strategy,
    pool_spec,
    required,
    spec_key,
    supported_version,
)
from gpu_platform.catalog import Cloud
from gpu_platform.gcp import compute_class
from gpu_platform.labels import MigStrategy
from gpu_platform.manifests import register_custom
from gpu_platform.pool_args import GpuPoolArgs
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving import coldstart, exposure, wakeup, workload
from gpu_platform.serving.autoscaling import render_scaled_object
from gpu_platform.serving.coldstart import ColdStart
from gpu_platform.serving.model_args import ModelArgs
from gpu_platform.serving.rules import model_problems
from gpu_platform.serving.spec import MODEL_NAME_PATTERN, ModelSpec

TOKEN = "gpuplatform:serving:VllmService"
MODEL_NAME = re.compile(MODEL_NAME_PATTERN)
MODEL_RULE = "lowercase letters, digits and '-', at most 41 characters"
REQUIRED = ("model_name", "model", "pools", "cloud", "kubernetes_version", "keda_release")
# Loading weights outlasts Pulumi's default awaits (10 minutes): 45 minutes, or the model's
# cold start with its margin when that is longer.
MIN_AWAIT_MINUTES = 45


def await_minutes(start: ColdStart | None) -> int:
    if start is None:
        return MIN_AWAIT_MINUTES
    return max(MIN_AWAIT_MINUTES, math.ceil(coldstart.MARGIN * start.total_seconds / 60))


NAMESPACE = "inference"


def resource_name(model_name: str) -> str:
    """The Kubernetes name of everything a model's server consists of."""
    return f"vllm-{model_name}"


def render_url(model_name: str) -> str:
    return f"http://{resource_name(model_name)}.{NAMESPACE}.svc.cluster.local:{workload.PORT}/v1"


class VllmServiceArgs(TypedDict):
    """One model served by vLLM on GPU pools of a cluster."""

    model_name: str
    """The model's name in the cluster (`vllm-<name>` objects, the name clients call first)."""
    model: ModelArgs
    """The model: its weights, size, replicas and how it is served."""
    pools: dict[str, GpuPoolArgs]
    """The pools the model runs on, by the names the model lists (`nodePool` or `nodePools`)."""
    cloud: str
    """aws or gcp: where the cluster runs."""
    kubernetes_version: str
    """The cluster's Kubernetes minor version, e.g. "1.36" (the pools' rules depend on it)."""
    keda_release: k8s.helm.v3.Release
    """KEDA's release: the model's ScaledObject waits for its CRDs."""
    mig_strategy: NotRequired[str]
    """How the cluster advertises MIG slices (none, single or mixed). Default: what the
    model's pools need."""
    hf_token_secret: NotRequired[str]
    """A Secret in namespace `inference` whose `HF_TOKEN` key the servers read (gated models)."""
    monitoring: NotRequired[bool]
    """Whether the cluster runs the Prometheus Operator (a PodMonitor for the model)."""
    service_account_annotations: NotRequired[dict[str, pulumi.Input[str]]]
    """Annotations for the servers' service account (GKE Workload Identity for weights in
    object storage)."""
    region: NotRequired[str]
    """The cluster's region (the S3 client's endpoint for streamed weights)."""
    object_store: NotRequired[pulumi.Input[list[str]]]
    """The object store's addresses, which the servers' network policy admits (weights in
    object storage)."""
    zones: NotRequired[list[str]]
    """The zones the model's pools span; per-replica caches need exactly one."""
    production: NotRequired[bool]
    """Replicas on separate nodes and zones, and a disruption budget that keeps one Ready."""
    http_add_on_release: NotRequired[k8s.helm.v3.Release]
    """KEDA's HTTP add-on release: required when the model scales to zero."""
    weights: NotRequired[pulumi.Input[str]]
    """The mirror a hub model streams its weights from (`s3://` or `gs://` prefix)."""
    image: NotRequired[str]
    """Where the nodes pull the server's image (an image cache). Default: the model's image or
    the pinned vLLM image."""
    compute_class: NotRequired[str]
    """GKE, a model on several pools: the ComputeClass listing them in order, which its pods
    select (gpu_platform.gcp.compute_class names and renders it); it must exist first."""


@dataclass(frozen=True)
class _Settings:
    """VllmServiceArgs, checked and resolved."""

    model_name: str
    model: ModelSpec
    pools: Mapping[str, NodePoolSpec]
    """The model's pools (tiers), most preferred first."""
    cloud: Cloud
    mig_strategy: MigStrategy
    keda_ready: pulumi.Resource
    hf_token_secret: str | None = None
    monitoring: bool = False
    """Whether the stack runs Prometheus (and so has the PodMonitor CRD)."""
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """GKE Workload Identity annotation for object-store weights."""
    region: str | None = None
    object_store: pulumi.Input[Sequence[str]] | None = None
    """The object store's addresses, for weights from object storage (ModelWeightsAccess)."""
    zones: tuple[str, ...] = ()
    """The zones the model's pools span; per-replica caches need exactly one."""
    production: bool = False
    """Replicas on separate nodes and zones, and a disruption budget that keeps one Ready."""
    http_ready: pulumi.Resource | None = None
    """KEDA's HTTP add-on, for a model that scales to zero."""
    weights: pulumi.Input[str] | None = None
    """The mirror a hub model streams its weights from (`s3://bucket/models/...`)."""
    image: str | None = None
    """Where nodes pull the server's image (GKE: the stack's image cache); default the
    model's image or the pinned vLLM image."""
    cold_start: ColdStart | None = None
    """How long the model takes to wake up, for the interceptor's hold (scale to zero)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)


def settings(args: VllmServiceArgs, waits: list[pulumi.Resource]) -> _Settings:
    """The args checked by the stack config's own rules and resolved: the model's tiers in
    order, the MIG strategy, the cold-start estimate."""
    component = "VllmServiceArgs"
    required(component, args, REQUIRED)
    cloud, version = args.get("cloud"), args.get("kubernetes_version")
    problems = supported_version(version)
    if cloud not in ("aws", "gcp"):
        problems.append(("cloud", f"{cloud!r} is not aws or gcp"))
    if not MODEL_NAME.fullmatch(str(args.get("model_name"))):
        problems.append(("modelName", MODEL_RULE))
    check(component, problems)
    model = from_args(component, "model", ModelSpec, args["model"])
    zones = args.get("zones")
    pools = {
        name: pool_spec(
            component,
            pool,
            cloud,  # type: ignore[arg-type]
            version,  # type: ignore[arg-type]
            f"pools.{name}",
            cluster_zones=tuple(zones) if zones else None,
        )
        for name, pool in (args.get("pools") or {}).items()
    }
    production = bool(args.get("production", False))
    check(
        component,
        [
            (spec_key("model", p.path, ModelSpec), p.message)
            for p in model_problems(cloud, production, model, pools)  # type: ignore[arg-type]
        ],
    )
    if cloud == "gcp" and len(model.tiers) > 1:
        expected = compute_class.class_name(model.tiers)
        if args.get("compute_class") != expected:
            check(
                component,
                [
                    (
                        "computeClass",
                        f"a model on several GKE pools selects ComputeClass {expected}: create "
                        "it (gpu_platform.gcp.compute_class) and name it here",
                    )
                ],
            )
    if model.scales_to_zero and args.get("http_add_on_release") is None:
        check(
            component, [("httpAddOnRelease", "the model scales to zero: give KEDA's HTTP add-on")]
        )
    tiers = {tier: pools[tier] for tier in model.tiers}
    weights = args.get("weights")
    return _Settings(
        model_name=args["model_name"],
        model=model,
        pools=tiers,
        cloud=cloud,  # type: ignore[arg-type]
        mig_strategy=mig_strategy(component, args.get("mig_strategy"), tiers),
        keda_ready=args["keda_release"],
        hf_token_secret=args.get("hf_token_secret"),
        monitoring=bool(args.get("monitoring", False)),
        service_account_annotations=dict(args.get("service_account_annotations") or {}),
        region=args.get("region"),
        object_store=args.get("object_store"),
        zones=tuple(args.get("zones") or ()),
        production=production,
        http_ready=args.get("http_add_on_release"),
        weights=weights,
        image=args.get("image"),
        cold_start=coldstart.on_pool(
            model,
            tiers[model.tiers[0]],
            cloud,
            mirrored=weights is not None,  # type: ignore[arg-type]
        ),
        depends_on=waits,
    )


class VllmService(pulumi.ComponentResource):
    """A model server: StatefulSet, Service, disruption budget, network policy, autoscaling.
    Give it the Kubernetes provider in `opts` (`providers=[k8s_provider]`)."""

    url: pulumi.Output[str]
    """In-cluster URL of the OpenAI-compatible API."""

    def __init__(
        self, name: str, args: VllmServiceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        resolved = settings(args, depends_on(opts))
        self._build(name, resolved, opts)

    def _build(self, name: str, args: _Settings, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(component_type(TOKEN, "VllmService"), name, None, opts)
        k8s_name = resource_name(args.model_name)
        model = args.model
        self._routes: list[pulumi.Resource] = []
        minutes = f"{await_minutes(args.cold_start)}m"
        timeouts = pulumi.CustomTimeouts(create=minutes, update=minutes)

        def child(
            depends: Sequence[pulumi.Resource | None], **options: Any
        ) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self, depends_on=[d for d in depends if d is not None], **options
            )

        ready = list(args.depends_on)
        account = exposure.render_service_account(k8s_name, NAMESPACE)
        ready.append(
            k8s.core.v1.ServiceAccount(
                f"{name}-sa",
                metadata={
                    **account["metadata"],
                    "annotations": dict(args.service_account_annotations),
                },
                automount_service_account_token=False,
                opts=child(args.depends_on),
            )
        )
        render = functools.partial(
            workload.render_workload,
            name=k8s_name,
            namespace=NAMESPACE,
            model_name=args.model_name,
            model=model,
            pools=args.pools,
            cloud=args.cloud,
            strategy=args.mig_strategy,
            hf_token_secret=args.hf_token_secret,
            zones=args.zones,
            region=args.region,
            production=args.production,
            image=args.image,
        )
        streamed = args.weights is not None or not model.from_hub
        credentials_from = args.cloud if streamed else None

        def policy(store: Sequence[str] | None) -> dict:
            return exposure.render_network_policy(
                k8s_name,
                NAMESPACE,
                object_store=store,
                credentials_from=credentials_from,
                interceptor=model.scales_to_zero,
            )

        # Only the spec waits for the store's addresses (known at deploy); the name never does.
        # The servers start once their policy lets them reach where their weights are.
        netpol = k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol",
            metadata=policy(None)["metadata"],
            spec=pulumi.Output.from_input(args.object_store).apply(lambda s: policy(s)["spec"]),
            opts=child(ready),
        )
        manifest = render()
        spec = (
            pulumi.Output.from_input(args.weights).apply(lambda w: render(weights=w)["spec"])
            if args.weights is not None
            else manifest["spec"]
        )
        server = k8s.apps.v1.StatefulSet(
            f"{name}-server",
            metadata=manifest["metadata"],
            spec=spec,
            # KEDA owns the replica count; loading weights outlasts the default await.
            opts=child(
                [*ready, netpol],
                ignore_changes=["spec.replicas"],
                custom_timeouts=timeouts,
            ),
        )
        if model.scales_to_zero:
            self._wake_up(name, k8s_name, args, child, ready)
        else:
            service = exposure.render_service(k8s_name, NAMESPACE)
            k8s.core.v1.Service(
                f"{name}-service",
                metadata=service["metadata"],
                spec=service["spec"],
                # A model that starts scaling to zero turns the Service into an ExternalName:
                # a Service cannot change type in place.
                opts=child(ready, replace_on_changes=["spec.type"], delete_before_replace=True),
            )
        pdb = exposure.render_pdb(k8s_name, NAMESPACE, model, args.production)
        if pdb is not None:
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata=pdb["metadata"],
                spec=pdb["spec"],
                # Its await is the model's minReplicas Ready: as long as the server's.
                opts=child(ready, custom_timeouts=timeouts),
            )
        scaled = render_scaled_object(
            k8s_name, NAMESPACE, k8s_name, workload.served_names(args.model_name, model)[0], model
        )
        # KEDA reads the wake-up trigger's metric spec from the InterceptorRoute when the
        # ScaledObject is created: the route first.
        register_custom(f"{name}-scaler", scaled, child([server, args.keda_ready, *self._routes]))
        if args.monitoring:
            monitor = exposure.render_pod_monitor(k8s_name, NAMESPACE)
            register_custom(f"{name}-monitor", monitor, child(ready))
        self.url = pulumi.Output.from_input(render_url(args.model_name))
        self.register_outputs({"url": self.url})

    def _wake_up(
        self,
        name: str,
        k8s_name: str,
        args: _Settings,
        child: Callable[..., pulumi.ResourceOptions],
        ready: list[pulumi.Resource],
    ) -> None:
        """The model's Service as an ExternalName for the HTTP add-on's interceptor, the
        backend Service the interceptor calls, and the route that holds requests meanwhile."""
        if args.http_ready is None or args.cold_start is None:
            raise ValueError(
                f"{args.model_name} scales to zero: it needs KEDA's HTTP add-on and its "
                "cold-start estimate"
            )
        route = register_custom(
            f"{name}-route",
            wakeup.render_interceptor_route(k8s_name, NAMESPACE, args.cold_start),
            child([args.http_ready]),
        )
        self._routes.append(route)
        # The model's name points at the interceptor only once it routes the model.
        for manifest, suffix, after in (
            (wakeup.render_backend_service(k8s_name, NAMESPACE), "backend", ready),
            (wakeup.render_front_service(k8s_name, NAMESPACE), "service", [*ready, route]),
        ):
            k8s.core.v1.Service(
                f"{name}-{suffix}",
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=child(after, replace_on_changes=["spec.type"], delete_before_replace=True),
            )
