"""Stack config: the shipped stack files validate, and each bad config fails with its key path."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from harness import platform_config, recorded, run_main
from hypothesis import given
from hypothesis import strategies as st

from gpu_platform import catalog
from gpu_platform.pools import resolved_machine_types
from stacks.config import ConfigError, StackConfig, parse
from tools.mockengine import Recording

DELETE = object()


def _with(base: dict[str, Any], changes: dict[tuple, Any]) -> dict[str, Any]:
    """Apply {key path: value} to a config; DELETE removes the key."""
    for path, value in changes.items():
        node = base
        for part in path[:-1]:
            node = node.setdefault(part, {})
        if value is DELETE:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return base


def _problems(raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(raw)
    return caught.value.problems


def test_every_shipped_stack_file_validates(any_stack: str) -> None:
    config = parse(platform_config(any_stack))
    assert config.node_pools, "a stack without GPU pools is not useful"


def test_dev_and_prod_have_the_intended_shape() -> None:
    dev, prod = parse(platform_config("dev")), parse(platform_config("prod"))
    assert not dev.production
    assert all(p.gpu == "l4" and p.capacity == "spot" for p in dev.node_pools.values())
    assert all(p.min_nodes == 0 for p in dev.node_pools.values()), "dev scales to zero"
    assert prod.production
    capacities = {(p.gpu, p.capacity) for p in prod.node_pools.values()}
    assert {("h100", "reserved"), ("h100", "spot")} <= capacities


DEV_POOL = ("nodePools", "l4-spot")
GCP_POOL = ("nodePools", "l4-spot")

# (id, stack the change applies to, {key path: new value}, expected problem line)
BAD_CONFIGS = [
    (
        "unknown-top-key",
        "dev",
        {("nodePool",): {}},
        "nodePool: unknown key (did you mean nodePools?)",
    ),
    ("environment-pattern", "dev", {("environment",): "Dev_1"}, "environment: must be lowercase"),
    (
        "environment-missing",
        "dev",
        {("environment",): DELETE},
        "environment: required key is missing",
    ),
    (
        "provider-unknown",
        "dev",
        {("cloud", "provider"): "azure"},
        "cloud.provider: unknown provider; use one of: aws, gcp",
    ),
    (
        "aws-project",
        "dev",
        {("cloud", "project"): "my-project"},
        "cloud.project: AWS has no project",
    ),
    ("aws-region", "dev", {("cloud", "region"): "us-central1"}, "cloud.region: not an AWS region"),
    (
        "zone-outside-region",
        "dev",
        {("cloud", "zones"): ["us-east-1a", "us-west-2a"]},
        "cloud.zones[1]: us-west-2a is not a zone of us-east-1",
    ),
    (
        "zone-twice",
        "dev",
        {("cloud", "zones"): ["us-east-1a", "us-east-1a"]},
        "cloud.zones: lists a zone twice",
    ),
    (
        "prod-one-zone",
        "prod",
        {("cloud", "zones"): ["us-east-1a"]},
        "cloud.zones: production needs at least two zones",
    ),
    (
        "gcp-project-missing",
        "gcp-dev",
        {("cloud", "project"): DELETE},
        "cloud.project: required key is missing",
    ),
    (
        "gcp-project-pattern",
        "gcp-dev",
        {("cloud", "project"): "My Project"},
        "cloud.project: not a GCP project id",
    ),
    ("cluster-name", "dev", {("cluster", "name"): "GP_dev"}, "cluster.name: not a DNS-1123 label"),
    (
        "cluster-name-long",
        "dev",
        {("cluster", "name"): "a" * 41},
        "cluster.name: not a DNS-1123 label",
    ),
    (
        "k8s-version-float",
        "dev",
        {("cluster", "kubernetesVersion"): 1.3},
        'cluster.kubernetesVersion: write the version as a quoted string such as "1.36"',
    ),
    (
        "k8s-version-format",
        "dev",
        {("cluster", "kubernetesVersion"): "v1.33"},
        "cluster.kubernetesVersion: not a Kubernetes minor version",
    ),
    ("no-pools", "dev", {("nodePools",): {}}, "nodePools: Dictionary should have at least 1 item"),
    (
        "pool-name",
        "dev",
        {
            ("nodePools", "L4_Spot"): {
                "gpu": "l4",
                "gpusPerNode": 1,
                "capacity": "spot",
                "maxNodes": 1,
            }
        },
        "nodePools.L4_Spot: not a valid pool name",
    ),
    (
        "gpu-unknown",
        "dev",
        {(*DEV_POOL, "gpu"): "h200"},
        "nodePools.l4-spot.gpu: Input should be 'h100', 'a100-40gb', 'a100-80gb' or 'l4'",
    ),
    (
        "gpus-per-node-not-offered",
        "dev",
        {(*DEV_POOL, "gpusPerNode"): 2, (*DEV_POOL, "instanceTypes"): DELETE},
        "nodePools.l4-spot.gpusPerNode: aws has no l4 type with 2 GPUs per node; "
        "choose one of: 1, 4, 8",
    ),
    (
        "instance-type-wrong-count",
        "dev",
        {(*DEV_POOL, "instanceTypes"): ["g6.xlarge", "g6.12xlarge"]},
        "nodePools.l4-spot.instanceTypes[1]: g6.12xlarge carries 4 x l4, not 1 x l4",
    ),
    (
        "instance-type-unknown",
        "dev",
        {(*DEV_POOL, "instanceTypes"): ["g5.xlarge"]},
        "nodePools.l4-spot.instanceTypes[0]: g5.xlarge is not in the catalog of aws GPU types",
    ),
    (
        "instance-type-other-cloud",
        "dev",
        {(*DEV_POOL, "instanceTypes"): ["g2-standard-4"]},
        "nodePools.l4-spot.instanceTypes[0]: g2-standard-4 is not in the catalog of aws GPU types",
    ),
    (
        "gcp-two-machine-types",
        "gcp-dev",
        {(*GCP_POOL, "instanceTypes"): ["g2-standard-4", "g2-standard-8"]},
        "nodePools.l4-spot.instanceTypes: a GKE node pool has exactly one machine type",
    ),
    (
        "gcp-capacity-block",
        "gcp-dev",
        {(*GCP_POOL, "capacity"): "capacity-block", (*GCP_POOL, "reservation"): "my-block"},
        "nodePools.l4-spot.capacity: capacity-block is AWS only",
    ),
    (
        "capacity-unknown",
        "dev",
        {(*DEV_POOL, "capacity"): "preemptible"},
        "nodePools.l4-spot.capacity: Input should be",
    ),
    (
        "reserved-without-reservation",
        "dev",
        {(*DEV_POOL, "capacity"): "reserved", (*DEV_POOL, "instanceTypes"): ["g6.xlarge"]},
        "nodePools.l4-spot.reservation: capacity reserved needs the reservation",
    ),
    (
        "spot-with-reservation",
        "dev",
        {(*DEV_POOL, "reservation"): "cr-0123456789abcdef0"},
        "nodePools.l4-spot.reservation: a spot pool does not consume a reservation",
    ),
    (
        "reservation-format-aws",
        "dev",
        {
            (*DEV_POOL, "capacity"): "reserved",
            (*DEV_POOL, "reservation"): "my-reservation",
            (*DEV_POOL, "instanceTypes"): ["g6.xlarge"],
        },
        "nodePools.l4-spot.reservation: not a valid aws reservation",
    ),
    (
        "reserved-two-types",
        "dev",
        {(*DEV_POOL, "capacity"): "reserved", (*DEV_POOL, "reservation"): "cr-0123456789abcdef0"},
        "nodePools.l4-spot.instanceTypes: a reserved pool runs on the one instance type",
    ),
    (
        "min-over-max",
        "dev",
        {(*DEV_POOL, "minNodes"): 5, (*DEV_POOL, "maxNodes"): 2},
        "nodePools.l4-spot.minNodes: minNodes (5) is greater than maxNodes (2)",
    ),
    (
        "max-zero",
        "dev",
        {(*DEV_POOL, "maxNodes"): 0},
        "nodePools.l4-spot.maxNodes: Input should be greater than or equal to 1",
    ),
    (
        "min-negative",
        "dev",
        {(*DEV_POOL, "minNodes"): -1},
        "nodePools.l4-spot.minNodes: Input should be greater than or equal to 0",
    ),
    (
        "workload-unknown",
        "dev",
        {(*DEV_POOL, "workload"): "training"},
        "nodePools.l4-spot.workload: Input should be 'inference' or 'batch'",
    ),
    (
        "l4-mig",
        "dev",
        {(*DEV_POOL, "sharing"): {"mode": "mig", "migProfile": "1g.10gb"}},
        "nodePools.l4-spot.sharing.migProfile: L4 GPUs do not support MIG",
    ),
    (
        "l4-mig-no-profile",
        "dev",
        {(*DEV_POOL, "sharing"): {"mode": "mig"}},
        "nodePools.l4-spot.sharing.mode: L4 GPUs do not support MIG",
    ),
    (
        "mig-profile-of-other-gpu",
        "prod",
        {("nodePools", "h100-spot", "sharing"): {"mode": "mig", "migProfile": "1g.5gb"}},
        "nodePools.h100-spot.sharing.migProfile: 1g.5gb is not a MIG profile of h100",
    ),
    (
        "mig-without-profile",
        "prod",
        {("nodePools", "h100-spot", "sharing"): {"mode": "mig"}},
        "nodePools.h100-spot.sharing.migProfile: mode mig needs a MIG profile",
    ),
    (
        "mig-profile-without-mig",
        "dev",
        {(*DEV_POOL, "sharing"): {"mode": "none", "migProfile": "1g.10gb"}},
        "nodePools.l4-spot.sharing.migProfile: migProfile only applies with mode mig",
    ),
    (
        "time-slicing-without-replicas",
        "dev",
        {(*DEV_POOL, "sharing"): {"mode": "time-slicing"}},
        "nodePools.l4-spot.sharing.replicas: mode time-slicing needs replicas",
    ),
    (
        "time-slicing-replicas-range",
        "dev",
        {(*DEV_POOL, "sharing"): {"mode": "time-slicing", "replicas": 32}},
        "nodePools.l4-spot.sharing.replicas: Input should be less than or equal to 16",
    ),
    (
        "replicas-without-time-slicing",
        "dev",
        {(*DEV_POOL, "sharing"): {"replicas": 4}},
        "nodePools.l4-spot.sharing.replicas: replicas only applies with mode time-slicing",
    ),
    (
        "sharing-unknown-key",
        "dev",
        {(*DEV_POOL, "sharing"): {"mode": "none", "profile": "x"}},
        "nodePools.l4-spot.sharing.profile: unknown key",
    ),
    (
        "pricing-unknown-type",
        "dev",
        {("pricing",): {"hourlyUsd": {"p9.huge": 1.0}}},
        'pricing.hourlyUsd["p9.huge"]: p9.huge is not in the aws catalog',
    ),
    (
        "pricing-negative",
        "dev",
        {("pricing",): {"hourlyUsd": {"g6.xlarge": -1}}},
        'pricing.hourlyUsd["g6.xlarge"]: Input should be greater than 0',
    ),
    (
        "spot-discount-range",
        "dev",
        {("pricing",): {"spotDiscount": 1.5}},
        "pricing.spotDiscount: Input should be less than 1",
    ),
    (
        "gcp-h100-single-on-demand",
        "gcp-dev",
        {
            (*GCP_POOL, "gpu"): "h100",
            (*GCP_POOL, "instanceTypes"): DELETE,
            (*GCP_POOL, "capacity"): "on-demand",
        },
        "nodePools.l4-spot.capacity: gcp sells 1 x h100 nodes only as spot",
    ),
    (
        "eks-needs-two-zones",
        "dev",
        {("cloud", "zones"): ["us-east-1a"]},
        "cloud.zones: EKS needs subnets in at least two zones",
    ),
    (
        "addons-chart-version-format",
        "dev",
        {("addons",): {"chartVersions": {"keda": "latest"}}},
        "addons.chartVersions.keda: not a chart version",
    ),
    (
        "addons-autoscaler-on-gcp",
        "gcp-dev",
        {("addons",): {"clusterAutoscaler": {"scaleDownUnneededTime": "5m"}}},
        "addons.clusterAutoscaler: GKE autoscales node pools itself",
    ),
    (
        "addons-operator-version-on-gcp",
        "gcp-dev",
        {("addons",): {"chartVersions": {"gpuOperator": "v26.7.0"}}},
        "addons.chartVersions.gpuOperator: not installed on gcp",
    ),
    (
        "addons-duration",
        "dev",
        {("addons",): {"clusterAutoscaler": {"maxNodeProvisionTime": "twenty minutes"}}},
        "addons.clusterAutoscaler.maxNodeProvisionTime: not a duration",
    ),
    (
        "addons-quota-namespace",
        "dev",
        {("addons",): {"gpuQuota": {"data": 2}}},
        "addons.gpuQuota.data: invalid key: Input should be 'inference' or 'batch'",
    ),
    (
        "addons-quota-negative",
        "dev",
        {("addons",): {"gpuQuota": {"batch": -1}}},
        "addons.gpuQuota: batch: a quota cannot be negative",
    ),
    (
        "k8s-version-unsupported",
        "dev",
        {("cluster", "kubernetesVersion"): "1.33"},
        "cluster.kubernetesVersion: Kubernetes 1.33 is not supported; supported: 1.34, 1.35, "
        "1.36. Clusters upgrade one minor version at a time",
    ),
    (
        "k8s-version-not-yet-supported",
        "gcp-dev",
        {("cluster", "kubernetesVersion"): "1.37"},
        "cluster.kubernetesVersion: Kubernetes 1.37 is not supported",
    ),
    (
        "assume-role-arn",
        "dev",
        {("cloud", "assumeRoleArn"): "arn:aws:iam::123:role/deploy"},
        "cloud.assumeRoleArn: not an IAM role ARN",
    ),
    (
        "aws-profile-on-gcp",
        "gcp-dev",
        {("cloud", "profile"): "ci"},
        "cloud.profile: unknown key",
    ),
    (
        "observability-retention",
        "dev",
        {("observability",): {"retention": "two weeks"}},
        "observability.retention: not a retention",
    ),
    # Compute: zones, reservations, images, add-ons, networks, system nodes.
    (
        "pool-zone-unknown",
        "dev",
        {(*DEV_POOL, "zones"): ["us-east-1c"]},
        "nodePools.l4-spot.zones[0]: us-east-1c is not one of cloud.zones",
    ),
    (
        "reservation-needs-one-zone",
        "prod",
        {("nodePools", "h100-reserved", "zones"): DELETE},
        "nodePools.h100-reserved.zones: reservation cr-0a1b2c3d4e5f60718 holds capacity in one "
        "zone",
    ),
    (
        "zones-required-to-create",
        "dev",
        {("cloud", "zones"): DELETE},
        "cloud.zones: list the zones to place subnets and GPU nodes in",
    ),
    (
        "ami-for-other-version",
        "dev",
        {(*DEV_POOL, "amiReleaseVersion"): "1.32.13-20260818"},
        "nodePools.l4-spot.amiReleaseVersion: release 1.32.13-20260818 is for Kubernetes 1.32",
    ),
    (
        "ami-format",
        "dev",
        {(*DEV_POOL, "amiReleaseVersion"): "latest"},
        "nodePools.l4-spot.amiReleaseVersion: not an AL2023 AMI release",
    ),
    (
        "ami-on-gcp",
        "gcp-dev",
        {(*GCP_POOL, "amiReleaseVersion"): "1.36.2-20260714"},
        "nodePools.l4-spot.amiReleaseVersion: aws only",
    ),
    (
        "addon-unknown",
        "dev",
        {("cluster", "addonVersions"): {"istio": "v1.0.0-eksbuild.1"}},
        "cluster.addonVersions.istio: unknown EKS add-on",
    ),
    (
        "addon-version-format",
        "dev",
        {("cluster", "addonVersions"): {"coredns": "latest"}},
        "cluster.addonVersions.coredns: latest is not an add-on version",
    ),
    (
        "gcp-key-on-aws",
        "dev",
        {("cluster", "releaseChannel"): "STABLE"},
        "cluster.releaseChannel: not used on aws",
    ),
    (
        "aws-key-on-gcp",
        "gcp-dev",
        {("cluster", "adminRoleArns"): ["arn:aws:iam::123456789012:role/x"]},
        "cluster.adminRoleArns: not used on gcp",
    ),
    (
        "admin-arn-not-a-role",
        "dev",
        {("cluster", "adminRoleArns"): ["arn:aws:iam::123456789012:user/x"]},
        "cluster.adminRoleArns: arn:aws:iam::123456789012:user/x is not an IAM role ARN",
    ),
    (
        "network-cidr-prefix",
        "dev",
        {("cluster", "networkCidr"): "10.0.0.0/8"},
        "cluster.networkCidr: prefix length must be /16 to /24",
    ),
    (
        "eks-vpc-too-small",
        "dev",
        {("cluster", "networkCidr"): "10.0.0.0/22"},
        "cluster.networkCidr: an EKS VPC needs /16 to /20",
    ),
    (
        "gke-ranges-overlap",
        "gcp-dev",
        {("cluster", "podsCidr"): "10.0.0.0/14"},
        "cluster.podsCidr: 10.0.0.0/14 overlaps networkCidr",
    ),
    (
        "public-cidr-invalid",
        "dev",
        {("cluster", "publicAccessCidrs"): ["everyone"]},
        "cluster.publicAccessCidrs: not an IPv4 CIDR block",
    ),
    (
        "system-nodes-gpu-type",
        "dev",
        {("cluster", "systemNodes"): {"instanceType": "g6.xlarge"}},
        "cluster.systemNodes.instanceType: g6.xlarge is a GPU type",
    ),
    (
        "system-nodes-min-over-max",
        "dev",
        {("cluster", "systemNodes"): {"minNodes": 5, "maxNodes": 2}},
        "cluster.systemNodes.minNodes: minNodes (5) is greater than maxNodes (2)",
    ),
    (
        "gke-partition-unsupported",
        "gcp-dev",
        {("nodePools", "a100-mig", "sharing", "migProfile"): "4g.20gb"},
        "nodePools.a100-mig.sharing.migProfile: GKE does not offer the 4g.20gb partition on "
        "a100-40gb",
    ),
    (
        "disk-too-small",
        "dev",
        {(*DEV_POOL, "diskGiB"): 20},
        "nodePools.l4-spot.diskGiB: Input should be greater than or equal to 100",
    ),
]


@pytest.mark.parametrize(
    ("stack", "changes", "expected"),
    [
        pytest.param(stack, changes, expected, id=case)
        for case, stack, changes, expected in BAD_CONFIGS
    ],
)
def test_bad_config_names_the_key(stack: str, changes: dict, expected: str) -> None:
    problems = _problems(_with(platform_config(stack), changes))
    assert any(p.startswith(expected) for p in problems), problems


def test_corpus_is_large_and_distinct() -> None:
    assert len(BAD_CONFIGS) >= 20
    assert len({case for case, *_ in BAD_CONFIGS}) == len(BAD_CONFIGS)


def test_every_problem_is_listed_in_one_message() -> None:
    raw = _with(
        platform_config("dev"),
        {
            ("environment",): "DEV",
            ("cluster", "name"): "Bad_Name",
            ("cloud", "zonez"): [],
            (*DEV_POOL, "minNodes"): 9,
            (*DEV_POOL, "sharing"): {"mode": "mig", "migProfile": "1g.10gb"},
        },
    )
    with pytest.raises(ConfigError) as caught:
        parse(raw)
    message = str(caught.value)
    assert message.startswith("invalid stack config gpu-platform:platform (5 problems):")
    for path in (
        "environment:",
        "cluster.name:",
        "cloud.zonez:",
        "nodePools.l4-spot.minNodes:",
        "nodePools.l4-spot.sharing.migProfile:",
    ):
        assert f"\n  - {path}" in message
    assert "Traceback" not in message
    assert "DEV" not in message, "input values stay out of messages (they may be secrets)"


def test_config_error_is_a_clean_pulumi_error() -> None:
    # Pulumi prints a RunError's message without a Python traceback.
    assert issubclass(ConfigError, pulumi.RunError)


def test_not_a_map() -> None:
    assert _problems(["a", "list"]) == ["(the whole value): must be a map of keys to values"]


def test_bad_config_registers_nothing() -> None:
    raw = _with(platform_config("dev"), {(*DEV_POOL, "maxNodes"): 0})
    recording = Recording()
    with pytest.raises(ConfigError, match=r"nodePools\.l4-spot\.maxNodes"):
        run_main(raw, recording=recording)
    assert recording.resources == []
    # The same harness records resources for a valid config, so the empty list above is real.
    assert recorded("dev").resources


def test_valid_config_is_frozen() -> None:
    config = parse(platform_config("dev"))
    with pytest.raises(Exception, match="frozen"):
        config.environment = "x"  # type: ignore[misc]


def _undocumented(schema: dict, defs: dict, path: str = "") -> list[str]:
    missing = []
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("description"):
            missing.append(f"{path}{name}")
    for name, sub in defs.items():
        for prop_name, prop in sub.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{name}.{prop_name}")
    return missing


def test_every_config_key_is_documented() -> None:
    schema = StackConfig.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    assert len(defs) >= 6, "the schema should include the nested models"
    assert _undocumented(schema, defs) == []


def test_yaml_keys_are_camel_case() -> None:
    schema = StackConfig.model_json_schema(by_alias=True)
    pool = schema["$defs"]["NodePoolSpec"]["properties"]
    assert {"gpusPerNode", "instanceTypes", "minNodes", "maxNodes"} <= set(pool)
    assert not [k for k in pool if "_" in k]


_POOL_CHOICES = [
    (cloud, gpu_key, count, capacity)
    for cloud in catalog.CLOUDS
    for gpu_key in catalog.GPU_KEYS
    for count in catalog.gpu_counts(cloud, gpu_key)
    for capacity in catalog.CAPACITY_BY_CLOUD[cloud]
    if any(m.sold_as(capacity) for m in catalog.machine_types(cloud, gpu_key, count))
]


@given(
    choice=st.sampled_from(_POOL_CHOICES),
    min_nodes=st.integers(0, 5),
    extra=st.integers(0, 5),
)
def test_any_catalog_pool_validates(choice: tuple, min_nodes: int, extra: int) -> None:
    cloud, gpu_key, count, capacity = choice
    pool: dict[str, Any] = {
        "gpu": gpu_key,
        "gpusPerNode": count,
        "capacity": capacity,
        "minNodes": min_nodes,
        "maxNodes": max(1, min_nodes + extra),
    }
    raw = platform_config("gcp-dev" if cloud == "gcp" else "dev")
    if capacity in ("reserved", "capacity-block"):
        pool["reservation"] = "cr-0123456789abcdef0" if cloud == "aws" else "gpu-reservation"
        pool["zones"] = raw["cloud"]["zones"][:1]
    raw["nodePools"] = {"pool": pool}
    raw.pop("models", None)
    config = parse(raw)
    for name in resolved_machine_types(cloud, config.node_pools["pool"]):
        entry = catalog.machine_type(cloud, name)
        assert entry is not None
        assert (entry.gpu, entry.gpu_count) == (gpu_key, count)


@given(low=st.integers(1, 50), high=st.integers(1, 50))
def test_min_over_max_always_names_min_nodes(low: int, high: int) -> None:
    raw = platform_config("dev")
    raw["nodePools"]["l4-spot"].update(minNodes=max(low, high) + 1, maxNodes=min(low, high))
    assert any(p.startswith("nodePools.l4-spot.minNodes: minNodes") for p in _problems(raw))
