"""VllmService: one model served by vLLM on its GPU pool, autoscaled by KEDA on vLLM's metrics.

Registers a ServiceAccount, the shared model cache claim (with a ReadWriteMany class), the
StatefulSet, a ClusterIP Service, a PodDisruptionBudget (several replicas), a NetworkPolicy,
the KEDA ScaledObject (after KEDA's CRDs) and, once the stack runs Prometheus, a PodMonitor.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform.catalog import Cloud
from gpu_platform.labels import MigStrategy
from gpu_platform.manifests import register_custom
from gpu_platform.options import child_of
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving import coldstart, exposure, wakeup, workload
from gpu_platform.serving.autoscaling import render_scaled_object
from gpu_platform.serving.coldstart import ColdStart
from gpu_platform.serving.spec import ModelSpec

TOKEN = "gpuplatform:serving:VllmService"
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


@dataclass(frozen=True)
class VllmServiceArgs:
    model_name: str
    model: ModelSpec
    pools: Mapping[str, NodePoolSpec]
    """The model's pools (tiers), most preferred first."""
    cloud: Cloud
    mig_strategy: MigStrategy
    k8s_provider: k8s.Provider
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


class VllmService(pulumi.ComponentResource):
    """A model server: StatefulSet, Service, disruption budget, network policy, autoscaling."""

    url: str
    """In-cluster URL of the OpenAI-compatible API."""

    def __init__(
        self, name: str, args: VllmServiceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TOKEN, name, None, opts)
        k8s_name = resource_name(args.model_name)
        model = args.model
        self._routes: list[pulumi.Resource] = []
        minutes = f"{await_minutes(args.cold_start)}m"
        timeouts = pulumi.CustomTimeouts(create=minutes, update=minutes)

        child = functools.partial(child_of, self, args.k8s_provider)

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
        self.url = render_url(args.model_name)
        self.register_outputs({"url": self.url})

    def _wake_up(
        self,
        name: str,
        k8s_name: str,
        args: VllmServiceArgs,
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
