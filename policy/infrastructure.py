"""Policy rules on the clouds' resources and the data a program keeps (pure; see
policy/rules.py): private data stores, protected production state, IMDSv2, encryption at rest,
a private production API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy.model import Resource, Stack, known

ANYWHERE = "0.0.0.0/0"
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
