"""Weaviate: the vector database from its pinned Helm chart, in the `data` namespace, ready for
retrieval applications.

API-key authentication is on and anonymous access off. The read-write key comes from the
config secret `weaviateApiKey` or is generated; the read-only key is generated. Both live only
in Kubernetes Secrets (and, encrypted, in Pulumi's state), never in Helm values or outputs. A
Job creates the default collection (replicated across the nodes, vectorized by the served
embedding model when there is one); with backups, a daily CronJob backs every collection up to
a bucket the stack creates, written with Weaviate's own cloud identity.

In production the release, its bucket and the Retain StorageClass under its volumes are
protected.

A public component: typed args (WeaviateArgs), its Kubernetes and cloud providers through
`opts`, checked at construction by the stack config's own store rules. No `from __future__
import annotations`: Pulumi's component analyzer reads the annotations.
"""

import functools
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import versions
from gpu_platform.addons import helm
from gpu_platform.args import ArgsError, component_type, depends_on
from gpu_platform.data import weaviate_jobs as jobs
from gpu_platform.data import weaviate_values as wv
from gpu_platform.data.storage import create_storage_class
from gpu_platform.data.store import (
    StoreClusterArgs,
    StoreSettings,
    create_backups,
    publish_contract,
    store_settings,
)
from gpu_platform.data.store_args import VectorStoreArgs
from gpu_platform.manifests import register_custom
from gpu_platform.options import child_of
from gpu_platform.passwords import password_generator
from gpu_platform.serving.vllm_service import MODEL_NAME, MODEL_RULE, render_url

TOKEN = "gpuplatform:data:Weaviate"
JOB_TIMEOUT = f"{jobs.WAIT_SECONDS // 60}m"


class WeaviateArgs(TypedDict):
    """Weaviate in a cluster, from its pinned Helm chart, in namespace `data` (which must
    exist)."""

    store: VectorStoreArgs
    """The store: its size, nodes, vectors and backups. `embeddingModel` names a model a
    VllmService of this cluster serves (`vllm-<name>` in namespace inference), which
    Weaviate vectorizes text with; without it, clients send vectors."""
    cluster: StoreClusterArgs
    """The cluster it runs in and the cloud account its backups go to."""
    api_key: NotRequired[pulumi.Input[str]]
    """The read-write API key (a secret). Default: a generated one."""


class Weaviate(pulumi.ComponentResource):
    """Weaviate, its API keys, default collection, backups and connection contract. Give it
    the Kubernetes provider and, with backups, the cloud's in `opts` (`providers=[...]`)."""

    connection: pulumi.Output[dict[str, Any]]
    """What a client needs (no key): engine, host and ports, collection, dimensions, distance,
    and the ConfigMap and Secret in each client namespace."""
    backup_url: pulumi.Output[str] | None
    """Where backups go (`s3://bucket` or `gs://bucket`); none without backups."""

    def __init__(self, name: str, args: WeaviateArgs, opts: pulumi.ResourceOptions | None = None):
        resolved = store_settings(
            "WeaviateArgs", args, engine="weaviate", mode="in-cluster", depends_on=depends_on(opts)
        )
        model = resolved.store.embedding_model
        if model is not None and not MODEL_NAME.fullmatch(model):
            raise ArgsError(
                "WeaviateArgs",
                [
                    (
                        "store.embeddingModel",
                        f"{model!r} is not a served model's name ({MODEL_RULE})",
                    )
                ],
            )
        super().__init__(component_type(TOKEN, "Weaviate"), name, None, opts)
        self._build(name, resolved.with_providers(self), args.get("api_key"))

    def _build(self, name: str, args: StoreSettings, api_key: pulumi.Input[str] | None) -> None:
        store, production = args.store, args.production
        model = store.embedding_model
        vectorizer = (model, render_url(model)) if model else None
        child = functools.partial(child_of, self, args.k8s_provider)
        storage_class = create_storage_class(
            f"{name}-storage", self, args.k8s_provider, args.cloud, production, args.depends_on
        )
        generate = password_generator(name, self)

        app_key = api_key if api_key is not None else generate("app-key", length=40)
        reader_key = generate("reader-key", length=40)
        keys = k8s.core.v1.Secret(
            f"{name}-keys",
            metadata={"name": wv.KEYS_SECRET, "namespace": wv.NAMESPACE},
            type="Opaque",
            string_data={
                wv.KEYS_VARIABLE: pulumi.Output.concat(app_key, ",", reader_key),
                wv.APP_KEY: app_key,
            },
            opts=child(args.depends_on),
        )

        # Weaviate never deletes its own backups: the bucket expires them.
        backups = create_backups(f"{name}-backups", self, args, wv.SERVICE_ACCOUNT, expire=True)
        self.backup_url = backups.url
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata={
                "name": wv.SERVICE_ACCOUNT,
                "namespace": wv.NAMESPACE,
                "annotations": backups.service_account_annotations,
            },
            automount_service_account_token=False,
            opts=child(args.depends_on),
        )
        backend = "s3" if args.cloud == "aws" else "gcs"
        backup_settings = (
            {"AWS_REGION": args.region or ""}
            if args.cloud == "aws"
            else {"GOOGLE_CLOUD_PROJECT": args.project or ""}
        )
        values = pulumi.Output.all(url=backups.url, checked=args.checked).apply(
            lambda resolved: wv.render_values(
                store,
                production=production,
                vectorizer_url=vectorizer[1] if vectorizer else None,
                backup=((backend, resolved["url"].split("://", 1)[1]) if resolved["url"] else None),
                backup_settings=backup_settings,
            )
        )
        release = helm.release(
            f"{name}-release",
            chart=versions.WEAVIATE_CHART,
            namespace=wv.NAMESPACE,
            values=values,
            timeout=900,
            # Removed from the program, the release stays (and with it the volumes' claims).
            opts=child(
                [storage_class, keys, account, *backups.ready, *args.depends_on],
                protect=production,
                retain_on_delete=production,
            ),
        )
        policy = wv.render_network_policy(store.client_namespaces)
        k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata=policy["metadata"],
            spec=policy["spec"],
            opts=child(args.depends_on),
        )
        if args.prometheus is not None:
            register_custom(
                f"{name}-monitor",
                wv.render_pod_monitor(),
                child([*args.depends_on, *args.monitoring_ready]),
            )

        collection = wv.render_collection(store, vectorizer)
        files = jobs.render_config_map(collection)
        script = k8s.core.v1.ConfigMap(
            f"{name}-bootstrap",
            metadata=files["metadata"],
            data=files["data"],
            opts=child(args.depends_on),
        )
        schema_job = jobs.render_schema_job(collection)
        schema = k8s.batch.v1.Job(
            f"{name}-schema",
            metadata=schema_job["metadata"],
            spec=schema_job["spec"],
            opts=child(
                [release, script],
                custom_timeouts=pulumi.CustomTimeouts(create=JOB_TIMEOUT, update=JOB_TIMEOUT),
            ),
        )
        if store.backups.enabled:
            cron = jobs.render_backup_cron_job(collection, backend)
            k8s.batch.v1.CronJob(
                f"{name}-backup",
                metadata=cron["metadata"],
                spec=cron["spec"],
                opts=child([release, script]),
            )

        vectorizer_name = vectorizer[0] if vectorizer else None
        publish_contract(
            name,
            self,
            args,
            contract=lambda namespace: wv.render_connection(store, namespace, vectorizer_name),
            secret_type="Opaque",
            secret={"apiKey": app_key, "readOnlyApiKey": reader_key},
            after=[schema],
        )
        self.connection = pulumi.Output.from_input(
            {
                "engine": store.engine,
                "mode": store.mode,
                "host": wv.HOST,
                "port": wv.HTTP_PORT,
                "grpcHost": wv.GRPC_HOST,
                "grpcPort": wv.GRPC_PORT,
                "collection": wv.COLLECTION,
                "dimensions": store.dimensions,
                "distance": store.distance,
                "configMap": wv.CONNECTION,
                "secretName": wv.CONNECTION,
            }
        )
        self.register_outputs({"connection": self.connection})
