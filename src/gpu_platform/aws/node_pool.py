"""EksGpuNodePool: one GPU node pool as an EKS managed node group on the AL2023 NVIDIA AMI.

The AMI ships the NVIDIA driver and container toolkit, so the GPU Operator installs neither on
EKS. Capacity kinds map to EKS like this:

- on-demand / spot: capacity type ON_DEMAND / SPOT; spot lists every catalog type of the pool's
  GPU and count, so the Spot allocation strategy can pick whichever pool has capacity;
- reserved: ON_DEMAND, plus a launch-template capacity reservation target (an ODCR id or a
  reservation resource group);
- capacity-block: CAPACITY_BLOCK, the instance type and `capacity-block` market type in the
  launch template, and the block as reservation target.

cluster-autoscaler can scale a pool up from zero only if it knows what a node would look like;
the node group's own tags are not copied to its Auto Scaling group, so the node-template tags
(labels, taints, GPU resources) are put on the ASG itself.

A public component: typed args (EksGpuNodePoolArgs, the pool as gpu_platform.pool_args), its AWS
provider through `opts`, checked at construction by the stack config's own pool rules. No
`from __future__ import annotations`: Pulumi's component analyzer reads the annotations.
"""

from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from gpu_platform import image_pull, labels, versions
from gpu_platform.args import (
    check,
    component_type,
    depends_on,
    mig_strategy,
    pool_name_problems,
    pool_spec,
    required,
    supported_version,
)
from gpu_platform.aws.launch_template import render_launch_template
from gpu_platform.labels import MigStrategy
from gpu_platform.pool_args import GpuPoolArgs
from gpu_platform.pools import (
    NodePoolSpec,
    ami_release,
    resolved_machine_types,
)

TOKEN = "gpuplatform:compute:EksGpuNodePool"
NODE_TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
CAPACITY_TYPES = {
    "on-demand": "ON_DEMAND",
    "spot": "SPOT",
    "reserved": "ON_DEMAND",
    "capacity-block": "CAPACITY_BLOCK",
}


@dataclass(frozen=True)
class CapacityPlan:
    """How a pool's capacity kind is expressed on the node group and its launch template."""

    capacity_type: str
    node_group_instance_types: tuple[str, ...]
    template_instance_type: str | None = None
    market_type: str | None = None
    reservation_target: dict[str, str] | None = None


def render_capacity(pool: NodePoolSpec, instance_types: tuple[str, ...]) -> CapacityPlan:
    target = None
    if pool.reservation is not None:
        key = (
            "capacity_reservation_id"
            if pool.reservation.startswith("cr-")
            else "capacity_reservation_resource_group_arn"
        )
        target = {key: pool.reservation}
    if pool.capacity == "capacity-block":
        # EKS takes a Capacity Block's instance type from the launch template only.
        return CapacityPlan("CAPACITY_BLOCK", (), instance_types[0], "capacity-block", target)
    return CapacityPlan(CAPACITY_TYPES[pool.capacity], instance_types, None, None, target)


def render_pool_launch_template(
    pool: NodePoolSpec, plan: CapacityPlan, tags: dict[str, str]
) -> dict[str, Any]:
    """Keyword arguments for the pool's `aws.ec2.LaunchTemplate`."""
    template = render_launch_template(
        disk_gib=pool.disk_gib,
        tags=tags,
        fast_image_pull=image_pull.method("aws") == "parallel",
    )
    if plan.template_instance_type is not None:
        template["instance_type"] = plan.template_instance_type
    if plan.market_type is not None:
        template["instance_market_options"] = {"market_type": plan.market_type}
    if plan.reservation_target is not None:
        template["capacity_reservation_specification"] = {
            "capacity_reservation_target": plan.reservation_target
        }
    return template


def render_update_config(pool: NodePoolSpec) -> dict[str, Any]:
    """Reserved capacity has no room for surge nodes: replace old nodes before launching new
    ones (MINIMAL) there; elsewhere launch first so capacity never dips (DEFAULT)."""
    strategy = "MINIMAL" if pool.capacity in ("reserved", "capacity-block") else "DEFAULT"
    return {"max_unavailable": 1, "update_strategy": strategy}


def render_taints(pool: NodePoolSpec) -> list[dict[str, str]]:
    """Node group taints (EKS spells the effect NO_SCHEDULE)."""
    return [
        {"key": t.key, "value": t.value, "effect": t.cloud_effect}
        for t in labels.pool_taints("aws", pool)
    ]


def render_autoscaler_tags(name: str, pool: NodePoolSpec, strategy: MigStrategy) -> dict[str, str]:
    """cluster-autoscaler node-template tags describing one node of an empty pool."""
    tags = {
        f"{NODE_TEMPLATE}/label/{key}": value
        for key, value in labels.pool_labels("aws", name, pool).items()
    }
    tags |= {
        f"{NODE_TEMPLATE}/taint/{t.key}": f"{t.value}:{t.effect}"
        for t in labels.pool_taints("aws", pool)
    }
    tags |= {
        f"{NODE_TEMPLATE}/resources/{resource}": str(count)
        for resource, count in labels.advertised_resources("aws", pool, strategy).items()
    }
    return tags


class EksGpuNodePoolArgs(TypedDict):
    """One GPU node pool of an EKS cluster."""

    pool_name: str
    """The pool's name: its nodes' `gpuplatform.io/pool` label and the node group's name
    prefix (lowercase letters, digits and '-', at most 31 characters)."""
    pool: GpuPoolArgs
    """The pool: its GPU, how many per node, how it is bought, how far it scales."""
    cluster_name: pulumi.Input[str]
    """The EKS cluster the node group joins."""
    kubernetes_version: str
    """The cluster's Kubernetes minor version, e.g. "1.36"; the nodes run it, on the AMI release
    pinned for it unless the pool names one."""
    node_role_arn: pulumi.Input[str]
    """The IAM role the nodes run as."""
    subnet_ids: pulumi.Input[list[str]]
    """The subnets the nodes run in: the cluster's private subnets of the pool's zones."""
    mig_strategy: NotRequired[str]
    """How the GPU Operator advertises MIG slices, one of none, single and mixed, as the
    cluster's pools need together. Default: what this pool alone needs."""
    tags: NotRequired[dict[str, str]]
    """Ownership tags for the pool's instances, volumes and network interfaces."""


REQUIRED = (
    "pool_name",
    "pool",
    "cluster_name",
    "kubernetes_version",
    "node_role_arn",
    "subnet_ids",
)


def problems(args: EksGpuNodePoolArgs) -> list[tuple[str, str]]:
    found = supported_version(args.get("kubernetes_version"))
    found += pool_name_problems(args.get("pool_name"))
    return found


class EksGpuNodePool(pulumi.ComponentResource):
    """A managed node group of GPU nodes, its launch template and its autoscaler tags. Give it
    the AWS provider in `opts` (`providers=[aws_provider]`)."""

    node_group_name: pulumi.Output[str]
    """The node group's name (the pool's name and a unique suffix)."""
    autoscaling_group_name: pulumi.Output[str]
    """The Auto Scaling group EKS made for the node group (cluster-autoscaler scales it)."""

    def __init__(
        self, name: str, args: EksGpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ):
        component = "EksGpuNodePoolArgs"
        required(component, args, REQUIRED)
        check(component, problems(args))
        version = args["kubernetes_version"]
        pool = pool_spec(component, args["pool"], "aws", version)
        pool_name, waits = args["pool_name"], depends_on(opts)
        strategy = mig_strategy(component, args.get("mig_strategy"), {pool_name: pool})
        super().__init__(component_type(TOKEN, "EksGpuNodePool"), name, None, opts)
        tags = dict(args.get("tags") or {})
        plan = render_capacity(pool, resolved_machine_types("aws", pool))
        template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            name_prefix=f"{pool_name}-",
            update_default_version=True,
            opts=pulumi.ResourceOptions(parent=self),
            **render_pool_launch_template(pool, plan, tags),
        )
        group = aws.eks.NodeGroup(
            f"{name}-ng",
            cluster_name=args["cluster_name"],
            # A prefix, not a name: EKS gets `<pool>-<unique suffix>`, so a change that replaces
            # the group creates the new one before deleting the old (a fixed name would make
            # the provider delete first and take every model on the pool down).
            node_group_name_prefix=f"{pool_name}-",
            node_role_arn=args["node_role_arn"],
            subnet_ids=args["subnet_ids"],
            ami_type=versions.EKS_AMI_TYPE,
            release_version=ami_release(version, pool.ami_release_version),
            version=version,
            capacity_type=plan.capacity_type,
            instance_types=list(plan.node_group_instance_types) or None,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=pool.min_nodes, max_size=pool.max_nodes, desired_size=pool.min_nodes
            ),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            labels=labels.pool_labels("aws", pool_name, pool),
            taints=render_taints(pool),
            update_config=render_update_config(pool),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=waits,
                # cluster-autoscaler owns the size after creation.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
        self.node_group_name = group.node_group_name
        self.autoscaling_group_name = group.resources.apply(
            lambda resources: resources[0].autoscaling_groups[0].name
        )
        for key, value in render_autoscaler_tags(pool_name, pool, strategy).items():
            aws.autoscaling.Tag(
                f"{name}-{key.removeprefix(NODE_TEMPLATE + '/').replace('/', '-')}",
                autoscaling_group_name=self.autoscaling_group_name,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {
                "nodeGroupName": self.node_group_name,
                "autoscalingGroupName": self.autoscaling_group_name,
            }
        )
