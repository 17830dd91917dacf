"""Which input changes make a provider replace a resource, and which resources hold state: the
one table the plan diff (tools/plandiff.py) reads.

A property listed here replaces the resource when it, or anything under it, changes. Sources:

- Kubernetes: pulumi-kubernetes' own table (provider/pkg/provider/diff.go, `forceNew`; vendored
  in tests/upstream/pulumi-kubernetes, which a test compares with this table). With the
  provider's defaults a ConfigMap's data and a Secret's data, stringData and type replace it
  (`enableConfigMapMutable` and `enableSecretMutable` are off), and a Helm release is replaced
  when its name or namespace changes (helm_release.go).
- AWS and Google Cloud: the schemas of the Terraform providers pulumi-aws and pulumi-gcp
  bridge (hashicorp/aws, hashicorp/google), where these arguments are `ForceNew` ("Forces new
  resource" in the Terraform Registry's documentation). Only arguments the platform sets or
  that commonly change are listed.
- random: every argument of a RandomPassword replaces it (a new password).

Paths use the plan's camelCase input names; list positions and keys are left out
(`spec.template.spec.containers.image`). A block marked `ForceNew` as a whole is listed by the
sub-fields that force it where some of its fields update in place.
"""

from __future__ import annotations

import re

_POSITIONS = re.compile(r"\[[^\]]*\]")
_METADATA = ("metadata.name", "metadata.namespace")
_SELECTOR = ("spec.selector",)

KUBERNETES: dict[str, tuple[str, ...]] = {
    "apps/v1:Deployment": _SELECTOR,
    "apps/v1:DaemonSet": _SELECTOR,
    "apps/v1:StatefulSet": (
        "spec.podManagementPolicy",
        "spec.revisionHistoryLimit",
        "spec.selector",
        "spec.serviceName",
        "spec.volumeClaimTemplates",
    ),
    "batch/v1:Job": ("spec.completions", "spec.parallelism", "spec.selector", "spec.template"),
    "core/v1:PersistentVolumeClaim": (
        "spec.accessModes",
        "spec.selector",
        "spec.storageClassName",
        "spec.volumeName",
    ),
    "core/v1:ResourceQuota": ("spec.scopes",),
    "core/v1:Secret": ("type", "stringData", "data"),
    "core/v1:ConfigMap": ("binaryData", "data"),
    "core/v1:Service": ("spec.clusterIP",),
    "storage.k8s.io/v1:StorageClass": ("parameters", "provisioner"),
    "rbac.authorization.k8s.io/v1:RoleBinding": ("roleRef",),
    "rbac.authorization.k8s.io/v1:ClusterRoleBinding": ("roleRef",),
}
HELM_RELEASE = ("name", "namespace")

CLOUD: dict[str, tuple[str, ...]] = {
    "aws:eks/cluster:Cluster": (
        "name",
        "roleArn",
        "bootstrapSelfManagedAddons",
        "accessConfig.bootstrapClusterCreatorAdminPermissions",
        "kubernetesNetworkConfig.ipFamily",
        "kubernetesNetworkConfig.serviceIpv4Cidr",
    ),
    "aws:eks/nodeGroup:NodeGroup": (
        "amiType",
        "capacityType",
        "clusterName",
        "diskSize",
        "instanceTypes",
        "launchTemplate.id",
        "launchTemplate.name",
        "nodeGroupName",
        "nodeGroupNamePrefix",
        "nodeRoleArn",
        "remoteAccess",
        "subnetIds",
    ),
    "aws:eks/addon:Addon": ("addonName", "clusterName"),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": (
        "clusterName",
        "namespace",
        "serviceAccount",
    ),
    "aws:eks/accessEntry:AccessEntry": ("clusterName", "principalArn", "type"),
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix", "objectLockEnabled"),
    # (An identifier change renames the instance in place.)
    "aws:rds/instance:Instance": (
        "engine",
        "dbName",
        "username",
        "storageEncrypted",
        "kmsKeyId",
        "availabilityZone",
        "characterSetName",
    ),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", "vpcId", "description"),
    "aws:ec2/natGateway:NatGateway": ("subnetId", "allocationId", "connectivityType"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpcId", "serviceName", "vpcEndpointType"),
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:kms/key:Key": ("customerMasterKeySpec", "keyUsage", "multiRegion"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", "logGroupClass"),
    "gcp:container/cluster:Cluster": (
        "name",
        "location",
        "project",
        "network",
        "subnetwork",
        "initialNodeCount",
        "datapathProvider",
        "defaultMaxPodsPerNode",
        "enableAutopilot",
        "clusterIpv4Cidr",
        "networkingMode",
        "ipAllocationPolicy.clusterSecondaryRangeName",
        "ipAllocationPolicy.servicesSecondaryRangeName",
        "ipAllocationPolicy.clusterIpv4CidrBlock",
        "ipAllocationPolicy.servicesIpv4CidrBlock",
        "privateClusterConfig.masterIpv4CidrBlock",
    ),
    # The platform names a pool after the settings GKE cannot change in place
    # (gpu_platform/gcp/cluster.py, render_pool_name), so those changes show as a new name.
    "gcp:container/nodePool:NodePool": (
        "name",
        "namePrefix",
        "cluster",
        "location",
        "project",
        "initialNodeCount",
        "maxPodsPerNode",
        "placementPolicy",
    ),
    "gcp:storage/bucket:Bucket": ("name", "location", "project"),
    "gcp:sql/databaseInstance:DatabaseInstance": (
        "name",
        "region",
        "project",
        "encryptionKeyName",
        "masterInstanceName",
    ),
    "gcp:sql/user:User": ("name", "instance", "project", "host", "type"),
    "gcp:serviceaccount/account:Account": ("accountId", "project"),
    "gcp:artifactregistry/repository:Repository": (
        "repositoryId",
        "location",
        "project",
        "format",
        "mode",
        "remoteRepositoryConfig.dockerRepository",
    ),
    "gcp:compute/network:Network": ("name", "project", "autoCreateSubnetworks"),
    "gcp:compute/subnetwork:Subnetwork": ("name", "network", "region", "project"),
    "gcp:kms/keyRing:KeyRing": ("name", "location", "project"),
    "gcp:kms/cryptoKey:CryptoKey": ("name", "keyRing", "purpose"),
    "gcp:dns/managedZone:ManagedZone": ("name", "dnsName", "visibility", "project"),
    "gcp:projects/service:Service": ("service", "project"),
    "random:index/randomPassword:RandomPassword": ("",),  # any argument
}

# Resources that hold data or capacity someone relies on: their replacement or deletion leads
# a plan diff, in bold.
STATEFUL: dict[str, str] = {
    "aws:eks/cluster:Cluster": "cluster",
    "gcp:container/cluster:Cluster": "cluster",
    "aws:eks/nodeGroup:NodeGroup": "node pool",
    "gcp:container/nodePool:NodePool": "node pool",
    "aws:rds/instance:Instance": "database",
    "gcp:sql/databaseInstance:DatabaseInstance": "database",
    "kubernetes:postgresql.cnpg.io/v1:Cluster": "PostgreSQL cluster",
    "kubernetes:core/v1:PersistentVolumeClaim": "volume",
    "aws:s3/bucket:Bucket": "bucket",
    "gcp:storage/bucket:Bucket": "bucket",
    "aws:kms/key:Key": "encryption key",
    "gcp:kms/cryptoKey:CryptoKey": "encryption key",
}
STATEFUL_CHARTS = {"weaviate": "vector store"}


def shape(path: str) -> str:
    """A property path without list positions or keys (`a[0].b`, `a[*].b`, `a[name=x].b`:
    `a.b`), the form the table and resource options are compared in."""
    return _POSITIONS.sub("", path)


def replacing_paths(type_: str) -> tuple[str, ...]:
    """The input paths whose change replaces a resource of this type."""
    if type_ == "kubernetes:helm.sh/v3:Release":
        return HELM_RELEASE
    if type_.startswith("kubernetes:"):
        return (*_METADATA, *KUBERNETES.get(type_.removeprefix("kubernetes:"), ()))
    return CLOUD.get(type_, ())


def replaces(type_: str, path: str, replace_on_changes: list[str] | tuple[str, ...] = ()) -> bool:
    """Whether a change at `path` (list positions left out) replaces the resource: the
    provider's table or the resource's own `replaceOnChanges` option."""
    return covered(path, (*replacing_paths(type_), *map(shape, replace_on_changes)))


def covered(path: str, prefixes: tuple[str, ...] | list[str]) -> bool:
    """Whether `path` is one of `prefixes` or under one (`""` and `*` cover everything)."""
    return any(
        prefix in ("", "*") or path == prefix or path.startswith(f"{prefix}.")
        for prefix in prefixes
    )


def stateful_kind(type_: str, inputs: dict) -> str | None:
    """What a stateful resource is ("node pool", "database", ...); None for the others."""
    if type_ == "kubernetes:helm.sh/v3:Release":
        return STATEFUL_CHARTS.get(str(inputs.get("chart")))
    return STATEFUL.get(type_)
