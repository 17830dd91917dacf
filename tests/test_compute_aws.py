"""EKS under the mock engine: cluster, network, identities, GPU node groups per capacity."""

from __future__ import annotations

import ipaddress
import json

import pytest
from harness import ADMIN_ROLE, dev_variant, platform_config, prod_variant, recorded, run_main
from hypothesis import given
from hypothesis import strategies as st

from gpu_platform import k8s_versions
from gpu_platform.aws.network import render_subnets
from gpu_platform.aws.node_pool import NODE_TEMPLATE
from tools.mockdata import RESOLVED_AT_DEPLOY
from tools.mockengine import Recording

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ASG_TAG = "aws:autoscaling/tag:Tag"

CAPACITY_POOLS = {
    "od": {"gpu": "l4", "gpusPerNode": 4, "capacity": "on-demand", "minNodes": 1, "maxNodes": 2},
    "spot": {"gpu": "l4", "gpusPerNode": 1, "capacity": "spot", "maxNodes": 3},
    "odcr": {
        "gpu": "h100",
        "gpusPerNode": 8,
        "capacity": "reserved",
        "reservation": "cr-0123456789abcdef0",
        "zones": ["us-east-1b"],
        "maxNodes": 2,
    },
    "block": {
        "gpu": "h100",
        "gpusPerNode": 8,
        "capacity": "capacity-block",
        "reservation": "cr-0fedcba9876543210",
        "zones": ["us-east-1a"],
        "maxNodes": 1,
    },
    "rg": {
        "gpu": "a100-40gb",
        "gpusPerNode": 8,
        "capacity": "reserved",
        "reservation": "arn:aws:resource-groups:us-east-1:123456789012:group/gpu-odcrs",
        "maxNodes": 1,
    },
}


@pytest.fixture(scope="module")
def capacity_stack() -> Recording:
    config = platform_config("dev")
    config["nodePools"] = CAPACITY_POOLS
    config.pop("models", None)  # they name pools this stack replaces
    return run_main(config, stack="capacity")


def _group(recording: Recording, pool: str):
    return recording.one(NODE_GROUP, f"dev-{pool}-ng")


def _template(recording: Recording, pool: str):
    return recording.one(LAUNCH_TEMPLATE, f"dev-{pool}-lt")


def _asg_tags(recording: Recording, pool: str) -> dict[str, str]:
    return {
        r.inputs["tag"]["key"]: r.inputs["tag"]["value"]
        for r in recording.of_type(ASG_TAG)
        if r.parent == f"gpuplatform:compute:EksGpuNodePool::dev-{pool}"
    }


def test_on_demand_pool(capacity_stack: Recording) -> None:
    group = _group(capacity_stack, "od")
    assert group.inputs["capacityType"] == "ON_DEMAND"
    assert group.inputs["instanceTypes"] == ["g6.12xlarge"]
    assert group.inputs["scalingConfig"] == {"minSize": 1, "maxSize": 2, "desiredSize": 1}
    template = _template(capacity_stack, "od").inputs
    assert "capacityReservationSpecification" not in template
    assert "instanceMarketOptions" not in template


def test_spot_pool_diversifies_across_every_matching_type(capacity_stack: Recording) -> None:
    group = _group(capacity_stack, "spot")
    assert group.inputs["capacityType"] == "SPOT"
    assert group.inputs["instanceTypes"] == [
        "g6.xlarge",
        "g6.2xlarge",
        "g6.4xlarge",
        "g6.8xlarge",
        "g6.16xlarge",
    ]
    assert {"key": "gpuplatform.io/spot", "value": "true", "effect": "NO_SCHEDULE"} in group.inputs[
        "taints"
    ]


def test_reserved_pool_targets_its_reservation_in_its_zone(capacity_stack: Recording) -> None:
    group = _group(capacity_stack, "odcr")
    assert group.inputs["capacityType"] == "ON_DEMAND"
    assert group.inputs["instanceTypes"] == ["p5.48xlarge"]
    # Only the private subnet of the reservation's zone (mock ids start with the resource name).
    (subnet,) = group.inputs["subnetIds"]
    assert subnet.startswith("dev-cluster-network-private-us-east-1b-")
    spec = _template(capacity_stack, "odcr").inputs["capacityReservationSpecification"]
    assert spec == {"capacityReservationTarget": {"capacityReservationId": "cr-0123456789abcdef0"}}
    rg = _template(capacity_stack, "rg").inputs["capacityReservationSpecification"]
    assert rg["capacityReservationTarget"] == {
        "capacityReservationResourceGroupArn": (
            "arn:aws:resource-groups:us-east-1:123456789012:group/gpu-odcrs"
        )
    }


def test_capacity_block_pool_moves_the_type_into_the_launch_template(
    capacity_stack: Recording,
) -> None:
    group = _group(capacity_stack, "block")
    assert group.inputs["capacityType"] == "CAPACITY_BLOCK"
    assert not group.inputs.get("instanceTypes")
    template = _template(capacity_stack, "block").inputs
    assert template["instanceType"] == "p5.48xlarge"
    assert template["instanceMarketOptions"] == {"marketType": "capacity-block"}
    assert template["capacityReservationSpecification"]["capacityReservationTarget"] == {
        "capacityReservationId": "cr-0fedcba9876543210"
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_pod_can_borrow_a_node_role(stack: str) -> None:
    """Every launch template, the system node group's included, answers instance metadata one
    hop away only: the node and host-network pods, not ordinary pods."""
    templates = recorded(stack).of_type(LAUNCH_TEMPLATE)
    assert any(t.name.endswith("-system") for t in templates)
    for template in templates:
        options = template.inputs["metadataOptions"]
        assert (options["httpTokens"], options["httpPutResponseHopLimit"]) == ("required", 1)


def test_launch_templates_require_imdsv2_and_a_large_gp3_root(capacity_stack: Recording) -> None:
    for pool in CAPACITY_POOLS:
        template = _template(capacity_stack, pool).inputs
        assert template["metadataOptions"]["httpTokens"] == "required"
        assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1
        (root,) = template["blockDeviceMappings"]
        assert root["deviceName"] == "/dev/xvda"
        assert root["ebs"]["volumeType"] == "gp3"
        assert root["ebs"]["volumeSize"] >= 200
        assert root["ebs"]["encrypted"] == "true"
        assert template["monitoring"] == {"enabled": True}


def test_reserved_capacity_updates_without_surge(capacity_stack: Recording) -> None:
    for pool, strategy in (("odcr", "MINIMAL"), ("block", "MINIMAL"), ("spot", "DEFAULT")):
        update = _group(capacity_stack, pool).inputs["updateConfig"]
        assert update == {"maxUnavailable": 1, "updateStrategy": strategy}, pool


def test_instances_and_volumes_carry_the_ownership_tags(capacity_stack: Recording) -> None:
    for template in capacity_stack.of_type(LAUNCH_TEMPLATE):
        specs = {t["resourceType"]: t["tags"] for t in template.inputs["tagSpecifications"]}
        assert set(specs) == {"instance", "volume", "network-interface"}
        for tags in specs.values():
            assert tags["gpuplatform.io/environment"] == "dev"
            assert tags["gpuplatform.io/managed-by"] == "pulumi"


def test_node_groups_use_the_pinned_nvidia_ami(capacity_stack: Recording) -> None:
    for pool in CAPACITY_POOLS:
        group = _group(capacity_stack, pool).inputs
        assert group["amiType"] == "AL2023_x86_64_NVIDIA"
        assert group["releaseVersion"] == k8s_versions.EKS_AMI_RELEASES["1.36"]
        assert group["releaseVersion"] == "1.36.2-20260714"
        assert group["version"] == "1.36"


def test_autoscaling_does_not_fight_pulumi_over_desired_size(capacity_stack: Recording) -> None:
    for group in capacity_stack.of_type(NODE_GROUP):
        assert group.options["ignoreChanges"] == ["scalingConfig.desiredSize"]


def test_asg_carries_scale_from_zero_tags(capacity_stack: Recording) -> None:
    tags = _asg_tags(capacity_stack, "spot")
    assert tags == {
        f"{NODE_TEMPLATE}/label/gpuplatform.io/pool": "spot",
        f"{NODE_TEMPLATE}/label/gpuplatform.io/gpu": "l4",
        f"{NODE_TEMPLATE}/label/gpuplatform.io/capacity": "spot",
        f"{NODE_TEMPLATE}/label/gpuplatform.io/workload": "inference",
        f"{NODE_TEMPLATE}/label/k8s.amazonaws.com/accelerator": "nvidia-l4",
        f"{NODE_TEMPLATE}/taint/nvidia.com/gpu": "true:NoSchedule",
        f"{NODE_TEMPLATE}/taint/gpuplatform.io/spot": "true:NoSchedule",
        f"{NODE_TEMPLATE}/resources/nvidia.com/gpu": "1",
    }
    assert _asg_tags(capacity_stack, "odcr")[f"{NODE_TEMPLATE}/resources/nvidia.com/gpu"] == "8"
    for tag in capacity_stack.of_type(ASG_TAG):
        assert tag.inputs["tag"]["propagateAtLaunch"] is False
        assert tag.inputs["autoscalingGroupName"].startswith("eks-")


def test_asg_tags_describe_mig_and_time_slicing_nodes() -> None:
    variant, _ = dev_variant()
    mig = {
        r.inputs["tag"]["key"]: r.inputs["tag"]["value"]
        for r in variant.of_type(ASG_TAG)
        if r.parent == "gpuplatform:compute:EksGpuNodePool::dev-a100-mig"
    }
    # One MIG profile in the stack: single strategy, 8 GPUs x 2 slices of 3g.40gb.
    assert mig[f"{NODE_TEMPLATE}/resources/nvidia.com/gpu"] == "16"
    assert mig[f"{NODE_TEMPLATE}/label/nvidia.com/mig.config"] == "all-3g.40gb"
    dev = recorded("dev")
    shared = {
        r.inputs["tag"]["key"]: r.inputs["tag"]["value"]
        for r in dev.of_type(ASG_TAG)
        if r.parent == "gpuplatform:compute:EksGpuNodePool::dev-l4-batch-spot"
    }
    assert shared[f"{NODE_TEMPLATE}/resources/nvidia.com/gpu"] == "4"
    assert shared[f"{NODE_TEMPLATE}/label/nvidia.com/device-plugin.config"] == "l4-batch-spot"


def test_mixed_mig_profiles_advertise_per_profile_resources() -> None:
    recording = prod_variant()
    tags = {
        r.inputs["tag"]["key"]: r.inputs["tag"]["value"]
        for r in recording.of_type(ASG_TAG)
        if r.parent == "gpuplatform:compute:EksGpuNodePool::prod-h100-mig"
    }
    assert tags[f"{NODE_TEMPLATE}/resources/nvidia.com/mig-1g.10gb"] == "56"
    assert f"{NODE_TEMPLATE}/resources/nvidia.com/gpu" not in tags


def test_cluster_is_private_encrypted_logged_and_pinned() -> None:
    recording = recorded("prod")
    cluster = recording.one("aws:eks/cluster:Cluster")
    inputs = cluster.inputs
    assert inputs["name"] == "gp-prod" and inputs["version"] == "1.36"
    assert inputs["vpcConfig"]["endpointPrivateAccess"] is True
    # Production's API answers only inside the VPC unless the stack names who else may call it.
    assert inputs["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in inputs["vpcConfig"]
    dev_vpc = recorded("dev").one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert (dev_vpc["endpointPublicAccess"], dev_vpc["publicAccessCidrs"]) == (True, ["0.0.0.0/0"])
    assert inputs["accessConfig"]["authenticationMode"] == "API"
    assert inputs["encryptionConfig"]["resources"] == ["secrets"]
    key = recording.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert set(inputs["enabledClusterLogTypes"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert recording.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 90
    assert inputs["bootstrapSelfManagedAddons"] is False
    assert inputs["upgradePolicy"] == {"supportType": "EXTENDED"}
    # Production protects what cannot be recreated without downtime or data loss.
    assert cluster.options["protect"] and inputs["deletionProtection"] is True
    assert key.options["protect"]
    dev_cluster = recorded("dev").one("aws:eks/cluster:Cluster")
    assert not dev_cluster.options["protect"]


def test_addons_are_pinned_or_resolved_at_deploy_and_exported() -> None:
    recording = recorded("dev")
    addons = {r.inputs["addonName"]: r for r in recording.of_type("aws:eks/addon:Addon")}
    assert set(addons) == set(k8s_versions.EKS_ADDONS)
    pins = k8s_versions.EKS_ADDON_VERSIONS["1.36"]
    assert pins["kube-proxy"] == "v1.36.0-eksbuild.14"
    for name, addon in addons.items():
        # No published pin: EKS's default for 1.36, which the offline plan cannot know.
        assert addon.inputs["addonVersion"] == (pins[name] or RESOLVED_AT_DEPLOY), name
    assert recording.outputs["eksAddonVersions"] == {
        name: addon.inputs["addonVersion"] for name, addon in addons.items()
    }


def test_resolved_add_ons_ask_eks_for_the_clusters_version() -> None:
    recording, mocks = dev_variant()
    asked = mocks.addon_lookups
    addons = {r.inputs["addonName"]: r.inputs for r in recording.of_type("aws:eks/addon:Addon")}
    assert addons["vpc-cni"]["addonVersion"] == "v1.22.4-eksbuild.3", "the stack's override"
    assert addons["coredns"]["addonVersion"] == "v1.14.2-eksbuild.4", "pinned for 1.35"
    resolved = {a["addonName"] for a in asked}
    assert resolved == {"eks-pod-identity-agent", "aws-ebs-csi-driver"}
    assert {a["kubernetesVersion"] for a in asked} == {"1.35"}
    assert not any(a.get("mostRecent") for a in asked), "EKS's default, not the newest build"


def test_addons_are_ordered_around_the_system_nodes() -> None:
    recording = recorded("dev")
    addons = {r.inputs["addonName"]: r for r in recording.of_type("aws:eks/addon:Addon")}
    assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {
        "enableNetworkPolicy": "true"
    }
    system = recording.one(NODE_GROUP, "dev-cluster-system")
    for before in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert f"aws:eks/addon:Addon::dev-cluster-{before}" in system.options["dependsOn"]
    for after in ("coredns", "aws-ebs-csi-driver"):
        assert (
            "aws:eks/nodeGroup:NodeGroup::dev-cluster-system" in addons[after].options["dependsOn"]
        )
    assert (
        addons["aws-ebs-csi-driver"].inputs["podIdentityAssociations"][0]["serviceAccount"]
        == "ebs-csi-controller-sa"
    )
    gpu = recording.one(NODE_GROUP, "dev-l4-spot-ng")
    assert "aws:eks/addon:Addon::dev-cluster-vpc-cni" in gpu.options["dependsOn"]
    assert (
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment::dev-cluster-node-AmazonEKSWorkerNodePolicy"
        in gpu.options["dependsOn"]
    )


def test_system_node_group_is_small_on_demand_and_labelled() -> None:
    system = recorded("dev").one(NODE_GROUP, "dev-cluster-system").inputs
    assert system["capacityType"] == "ON_DEMAND"
    assert system["instanceTypes"] == ["m6i.xlarge"]
    assert system["amiType"] == "AL2023_x86_64_STANDARD"
    assert system["labels"] == {
        "gpuplatform.io/pool": "system",
        "gpuplatform.io/workload": "system",
    }
    assert not system.get("taints")


def test_identities_for_autoscaler_and_ebs_csi() -> None:
    recording = recorded("dev")
    association = recording.one(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation", "dev-cluster-cluster-autoscaler"
    )
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "kube-system",
        "cluster-autoscaler",
    )
    policy = json.loads(
        recording.one("aws:iam/rolePolicy:RolePolicy", "dev-cluster-cluster-autoscaler").inputs[
            "policy"
        ]
    )
    resize = next(s for s in policy["Statement"] if s["Sid"] == "ResizeOwnNodeGroups")
    assert resize["Condition"]["StringEquals"] == {
        "aws:ResourceTag/k8s.io/cluster-autoscaler/gp-dev": "owned"
    }
    trust = json.loads(
        recording.one("aws:iam/role:Role", "dev-cluster-cluster-autoscaler").inputs[
            "assumeRolePolicy"
        ]
    )
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}


def test_admin_roles_get_access_entries() -> None:
    recording, _ = dev_variant()
    entry = recording.one("aws:eks/accessEntry:AccessEntry")
    assert entry.inputs["principalArn"] == ADMIN_ROLE
    policy = recording.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert policy.inputs["policyArn"].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")
    assert policy.inputs["accessScope"] == {"type": "cluster"}


def test_network_nat_per_zone_in_production_one_in_dev() -> None:
    prod = recorded("prod")
    dev = recorded("dev")
    assert len(prod.of_type("aws:ec2/natGateway:NatGateway")) == 3
    assert len(dev.of_type("aws:ec2/natGateway:NatGateway")) == 1
    subnets = dev.of_type("aws:ec2/subnet:Subnet")
    public = [s for s in subnets if "public" in s.name]
    private = [s for s in subnets if "private" in s.name]
    assert all(s.inputs["tags"]["kubernetes.io/role/elb"] == "1" for s in public)
    assert all(s.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1" for s in private)
    assert all(s.inputs["tags"]["kubernetes.io/cluster/gp-dev"] == "shared" for s in subnets)


@given(
    prefix=st.integers(16, 20),
    count=st.integers(1, 7),
)
def test_subnet_plan_fits_and_never_overlaps(prefix: int, count: int) -> None:
    vpc = ipaddress.IPv4Network(f"10.0.0.0/{prefix}")
    zones = tuple(f"us-east-1{chr(ord('a') + i)}" for i in range(count))
    plan = render_subnets(str(vpc), zones)
    blocks = [ipaddress.IPv4Network(c) for p in plan for c in (p.private_cidr, p.public_cidr)]
    assert all(b.subnet_of(vpc) for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    assert [p.zone for p in plan] == list(zones)


def test_kubernetes_provider_uses_exec_credentials_and_is_secret() -> None:
    recording = recorded("dev")
    provider = recording.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert recording.outputs["kubeconfig"] == "[secret]"
    for r in recording.resources:
        if r.type.startswith("kubernetes:"):
            assert r.provider == "pulumi:providers:kubernetes::dev-cluster-k8s"
    storage = recording.one("kubernetes:storage.k8s.io/v1:StorageClass", "dev-cluster-gp3")
    assert storage.inputs["provisioner"] == "ebs.csi.aws.com"
    assert storage.inputs["parameters"]["type"] == "gp3"
    assert storage.inputs["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }


ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def _attached(recording: Recording, role: str) -> set[str]:
    return {
        r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in recording.of_type(ATTACHMENT)
        if r.inputs["role"] == role
    }


def test_only_the_cnis_own_service_account_holds_its_permissions() -> None:
    """Pods on a node can use the node role (host-network ones reach IMDS whatever its hop
    limit): it does not carry the VPC CNI's ENI permissions; EKS Pod Identity gives them to the
    aws-node service account alone, once the identity agent is installed."""
    dev = recorded("dev")
    assert "AmazonEKS_CNI_Policy" not in _attached(dev, "dev-cluster-node")
    assert _attached(dev, "dev-cluster-vpc-cni") == {"AmazonEKS_CNI_Policy"}
    role = dev.one("aws:iam/role:Role", "dev-cluster-vpc-cni").inputs
    trust = json.loads(role["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    cni = dev.one("aws:eks/addon:Addon", "dev-cluster-vpc-cni")
    (association,) = cni.inputs["podIdentityAssociations"]
    assert association["serviceAccount"] == "aws-node"
    assert association["roleArn"].endswith(":role/dev-cluster-vpc-cni")
    assert {
        "aws:eks/addon:Addon::dev-cluster-eks-pod-identity-agent",
        f"{ATTACHMENT}::dev-cluster-vpc-cni-AmazonEKS_CNI_Policy",
    } <= set(cni.options["dependsOn"])
    # Credentials reach only pods created after the association: the CNI's pods roll once
    # (a cluster whose node role had the policy), before Pulumi deletes that attachment last.
    restart = dev.one("kubernetes:apps/v1:DaemonSetPatch", "dev-cluster-aws-node-credentials")
    assert restart.inputs["metadata"]["name"] == "aws-node"
    template = restart.inputs["spec"]["template"]["metadata"]["annotations"]
    assert template == {"gpuplatform.io/cni-credentials": "pod-identity"}
    assert cni.key in restart.options["dependsOn"]


def test_adopted_cluster_registers_no_cluster() -> None:
    config = platform_config("dev")
    config["cluster"]["create"] = False
    recording = run_main(config)
    for absent in (
        "aws:eks/cluster:Cluster",
        "aws:ec2/vpc:Vpc",
        "aws:kms/key:Key",
        "aws:eks/addon:Addon",
    ):
        assert recording.of_type(absent) == [], absent
    # The cluster's default class is the cluster owner's; the vector store brings its own.
    classes = recording.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    assert [r.name for r in classes] == ["dev-vectors-storage"]
    group = recording.one(NODE_GROUP, "dev-l4-spot-ng")
    assert group.inputs["clusterName"] == "gp-dev"
    assert group.inputs["subnetIds"], "node groups land in the adopted cluster's subnets"
    assert recording.outputs["clusterEndpoint"].endswith(".eks.amazonaws.com")
    # The adopted cluster's own CNI may rely on the node role, as EKS sets it up by default.
    assert "AmazonEKS_CNI_Policy" in _attached(recording, "dev-cluster-node")
    assert recording.of_type("kubernetes:apps/v1:DaemonSetPatch") == []
    assert recording.one("pulumi:providers:kubernetes").inputs["kubeconfig"] == "[secret]"


def test_control_plane_logs_are_encrypted_with_the_cluster_key_and_protected() -> None:
    prod = recorded("prod")
    logs = prod.one("aws:cloudwatch/logGroup:LogGroup")
    key = prod.one("aws:kms/key:Key")
    assert logs.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert logs.options["protect"] and key.options["protect"]
    assert not recorded("dev").one("aws:cloudwatch/logGroup:LogGroup").options["protect"]
    policy = json.loads(key.inputs["policy"])
    account, logs_statement = policy["Statement"]
    assert account["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert logs_statement["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs_statement["Condition"]["ArnEquals"] == {
        "kms:EncryptionContext:aws:logs:arn": (
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/eks/gp-prod/cluster"
        )
    }
