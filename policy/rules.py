"""The platform's policy rules: plain functions over registered resources, run by the offline plan
(tools/findings.py) and by the CrossGuard pack (policy/pack.py) alike.

Mandatory rules block a deployment (and fail `make plan --strict`); advisory ones are reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policy.images import images, is_vllm, unpinned
from policy.model import Resource, Rule, Stack, Violation, known

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
ANYWHERE = "0.0.0.0/0"
# A name that holds a secret value (not one naming a Secret, such as `secretName`).
SECRET_NAME = re.compile(
    r"(token|password|passwd|secret|api_?key|private_?key|access_?key|webhook(_?url)?)$", re.I
)
DATASTORE_NAMES = {"weaviate", "postgresql", "postgres", "cloudnative-pg", "pgvector"}
STATEFUL_TYPES = {
    "aws:eks/cluster:Cluster": "the cluster",
    "gcp:container/cluster:Cluster": "the cluster",
    "aws:rds/instance:Instance": "a database",
    "gcp:sql/databaseInstance:DatabaseInstance": "a database",
    "aws:s3/bucket:Bucket": "a bucket",
    "aws:s3/bucketV2:BucketV2": "a bucket",
    "gcp:storage/bucket:Bucket": "a bucket",
    "kubernetes:postgresql.cnpg.io/v1:Cluster": "a PostgreSQL cluster",
    "kubernetes:core/v1:PersistentVolumeClaim": "a volume",
    "aws:kms/key:Key": "an encryption key",
    "gcp:kms/cryptoKey:CryptoKey": "an encryption key",
}


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


# --- data stores stay inside ----------------------------------------------------------------


def _datastore_labels(inputs: Mapping[str, Any]) -> bool:
    spec = inputs.get("spec") or {}
    metadata = inputs.get("metadata") or {}
    for values in (spec.get("selector") or {}, metadata.get("labels") or {}):
        if "cnpg.io/cluster" in values:
            return True
        if str(values.get("app.kubernetes.io/name", "")).lower() in DATASTORE_NAMES:
            return True
    return False


def private_datastores(resource: Resource, _: Stack) -> Iterator[str]:
    inputs = resource.inputs
    if resource.type == "aws:rds/instance:Instance" and inputs.get("publiclyAccessible"):
        yield "publiclyAccessible: the database gets a public address; keep it private"
    if resource.type == "gcp:sql/databaseInstance:DatabaseInstance":
        ip = ((inputs.get("settings") or {}).get("ipConfiguration")) or {}
        if ip.get("ipv4Enabled", True):
            yield "settings.ipConfiguration.ipv4Enabled: the database gets a public address"
    if resource.type == "kubernetes:core/v1:Service" and _datastore_labels(inputs):
        kind = (inputs.get("spec") or {}).get("type", "ClusterIP")
        if kind in ("LoadBalancer", "NodePort"):
            yield f"a {kind} Service exposes a data store outside the cluster; use ClusterIP"
    if resource.type == "kubernetes:helm.sh/v3:Release" and inputs.get("chart") == "weaviate":
        values = inputs.get("values") or {}
        for key in ("service", "grpcService"):
            kind = (values.get(key) or {}).get("type", "ClusterIP")
            if kind != "ClusterIP":
                yield f"values.{key}.type = {kind} exposes Weaviate outside the cluster"


# --- production data is protected -----------------------------------------------------------


def protected_stateful(resource: Resource, stack: Stack) -> Iterator[str]:
    what = STATEFUL_TYPES.get(resource.type)
    if resource.type == "kubernetes:helm.sh/v3:Release" and resource.inputs.get("chart") == (
        "weaviate"
    ):
        what = "a vector store"
    if stack.production and what and not resource.protect:
        yield f"{what} in production without protect: a mistaken change or destroy deletes it"


# --- instance metadata ----------------------------------------------------------------------


def imdsv2(resource: Resource, _: Stack) -> Iterator[str]:
    if resource.type not in ("aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance"):
        return
    options = resource.inputs.get("metadataOptions") or {}
    if known(options, options.get("httpTokens")) and options.get("httpTokens") != "required":
        yield (
            "metadataOptions.httpTokens is not required: IMDSv1 answers any request on the "
            "node, including a pod's; require IMDSv2 tokens"
        )


# --- encryption at rest ---------------------------------------------------------------------


def _truthy(value: Any, unknown: bool = False) -> bool:
    """`true` as a boolean or a string; `unknown` for a value known only at deploy."""
    if not known(value):
        return unknown
    return value is True or str(value).lower() == "true"


def encryption_at_rest(resource: Resource, _: Stack) -> Iterator[str]:
    inputs, kind = resource.inputs, resource.type
    if kind == "aws:ec2/launchTemplate:LaunchTemplate":
        for mapping in inputs.get("blockDeviceMappings") or []:
            ebs = mapping.get("ebs") or {}
            if ebs and known(ebs.get("encrypted")) and not _truthy(ebs.get("encrypted")):
                yield f"the volume {mapping.get('deviceName')} is not encrypted"
    elif kind == "aws:ebs/volume:Volume" and not _truthy(inputs.get("encrypted"), True):
        yield "the volume is not encrypted"
    elif kind == "aws:rds/instance:Instance" and not _truthy(inputs.get("storageEncrypted"), True):
        yield "storageEncrypted is off"
    elif kind == "aws:eks/cluster:Cluster" and known(inputs.get("encryptionConfig")):
        if not inputs.get("encryptionConfig"):
            yield "Kubernetes Secrets are not envelope-encrypted with a KMS key (encryptionConfig)"
    elif kind == "gcp:container/cluster:Cluster":
        encryption = inputs.get("databaseEncryption") or {}
        state = encryption.get("state")
        if known(encryption, state) and state != "ENCRYPTED":
            yield "Kubernetes Secrets are not encrypted with a Cloud KMS key (databaseEncryption)"


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


# --- the production Kubernetes API ----------------------------------------------------------


def _api_open_to_anywhere(resource: Resource) -> bool:
    inputs = resource.inputs
    if resource.type == "aws:eks/cluster:Cluster":
        vpc = inputs.get("vpcConfig") or {}
        return bool(vpc.get("endpointPublicAccess")) and ANYWHERE in (
            vpc.get("publicAccessCidrs") or []
        )
    if resource.type == "gcp:container/cluster:Cluster":
        private = (inputs.get("privateClusterConfig") or {}).get("enablePrivateEndpoint")
        authorized = inputs.get("masterAuthorizedNetworksConfig")
        if private or not known(private, authorized):
            return False
        if not authorized:
            return True  # no authorized networks: the public endpoint takes any address
        networks = authorized.get("cidrBlocks") or []
        return ANYWHERE in {n.get("cidrBlock") for n in networks}
    return False


def private_api(resource: Resource, stack: Stack) -> Iterator[str]:
    if stack.production and _api_open_to_anywhere(resource):
        yield (
            "the production Kubernetes API is reachable from anywhere (0.0.0.0/0): set "
            "cluster.publicAccessCidrs to the ranges that deploy and operate the cluster, or "
            "cluster.endpointAccess: private (README: Reaching a private API)"
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "pinned-images",
        "Container images name a release tag or a digest, never `latest`; vLLM's by digest.",
        "mandatory",
        check_resource=pinned_images,
    ),
    Rule(
        "gpu-placement",
        "Workloads that request GPUs select a GPU pool and tolerate its taints.",
        "mandatory",
        check_stack=gpu_placement,
    ),
    Rule(
        "memory-limits",
        "Every container has a memory limit.",
        "mandatory",
        check_resource=memory_limits,
    ),
    Rule(
        "namespace-network-policy",
        "Every application namespace has a NetworkPolicy.",
        "mandatory",
        check_stack=namespace_network_policy,
    ),
    Rule(
        "private-datastores",
        "No database or vector store is reachable from outside the cluster.",
        "mandatory",
        check_resource=private_datastores,
    ),
    Rule(
        "protected-stateful",
        "Production clusters, databases, buckets and vector stores are protected.",
        "mandatory",
        check_resource=protected_stateful,
    ),
    Rule(
        "imdsv2",
        "Launch templates and instances require IMDSv2.",
        "mandatory",
        check_resource=imdsv2,
    ),
    Rule(
        "encryption-at-rest",
        "Volumes, databases and Kubernetes Secrets are encrypted at rest.",
        "mandatory",
        check_resource=encryption_at_rest,
    ),
    Rule(
        "no-plain-secrets",
        "No secret is passed as a plain input (container env values, ConfigMaps).",
        "mandatory",
        check_resource=no_plain_secrets,
    ),
    # Advisory: a production stack may name 0.0.0.0/0 in cluster.publicAccessCidrs on purpose
    # (the config requires the ranges to be named).
    Rule(
        "private-api",
        "A production cluster's Kubernetes API is not open to the whole internet.",
        "advisory",
        check_resource=private_api,
    ),
)
