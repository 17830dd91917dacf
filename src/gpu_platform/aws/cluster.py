"""EksCluster: an EKS cluster ready for GPU node pools, or an existing one adopted by name.

Created clusters get their own VPC, IAM roles, a KMS key for envelope encryption of secrets,
control-plane logs, access entries for admin roles, a small on-demand system node group, the core
managed add-ons, a default gp3 StorageClass and the Pod Identity roles cluster-autoscaler and the
EBS CSI driver use. Either way the component exposes a Kubernetes provider that authenticates with
`aws eks get-token`, so no long-lived credential is stored in state.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from gpu_platform import kubeconfig
from gpu_platform.aws import iam
from gpu_platform.aws.addons import (
    ADDON_IDENTITIES,
    AUTOSCALER_NAMESPACE,
    AUTOSCALER_SERVICE_ACCOUNT,
    POST_NODE_ADDONS,
    PRE_NODE_ADDONS,
    render_cni_restart,
    render_storage_class,
)
from gpu_platform.aws.encryption import create_key_and_logs
from gpu_platform.aws.managed_addons import create_addon
from gpu_platform.aws.network import EksNetwork, EksNetworkArgs
from gpu_platform.aws.system_nodes import create_admin_access, create_system_nodes
from gpu_platform.cloud import AwsCloudSpec, ClusterSpec

TOKEN = "gpuplatform:compute:EksCluster"
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# With STANDARD support EKS upgrades a control plane by itself once its version leaves standard
# support, behind Pulumi's back (the next `pulumi up` would try to downgrade it). EXTENDED keeps
# the version until the stack changes it; the offline plan shows the higher fee and a finding.
UPGRADE_SUPPORT = "EXTENDED"


@dataclass(frozen=True)
class EksClusterArgs:
    production: bool
    cloud: AwsCloudSpec
    cluster: ClusterSpec
    provider: pulumi.ProviderResource
    tags: dict[str, str]
    """Ownership tags for instances and volumes (provider default tags do not reach them)."""


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster (created or adopted) and the Kubernetes provider built from it."""

    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    """The security group EKS gives the control plane and managed nodes (and so pods)."""
    """Kubeconfig with exec-based credentials (secret)."""
    k8s_provider: k8s.Provider
    node_role_arn: pulumi.Output[str]
    node_dependencies: list[pulumi.Resource]
    """What GPU node groups must wait for (the add-ons nodes need to become Ready)."""
    autoscaler_role_arn: pulumi.Output[str]
    system_ready: list[pulumi.Resource]
    """What cluster add-ons must wait for: system nodes and the add-ons running on them."""
    addon_versions: dict[str, pulumi.Output[str]]
    """The EKS managed add-ons' versions, pinned or resolved at deploy (empty when adopted)."""

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TOKEN, name, None, opts)
        self._args = args
        self._name = name
        partition = args.cloud.partition
        self._attachments: dict[str, list[pulumi.Resource]] = {}
        self.node_role_arn = self._role(
            "node",
            iam.service_trust_policy("ec2.amazonaws.com"),
            iam.node_policies(cni_on_node_role=not args.cluster.create),
        ).arn
        # Nodes cannot join before their role carries its policies.
        self.node_dependencies = list(self._attachments["node"])
        self.system_ready = []
        self.addon_versions = {}
        ca_data = self._create(partition) if args.cluster.create else self._adopt()

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster_name, self.endpoint, ca_data).apply(
                lambda v: kubeconfig.render_eks(
                    v[0],
                    v[1],
                    v[2],
                    args.cloud.region,
                    role_arn=args.cloud.assume_role_arn,
                    profile=args.cloud.profile,
                )
            )
        )
        self.k8s_provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        if args.cluster.create:
            k8s.apps.v1.DaemonSetPatch(
                f"{name}-aws-node-credentials",
                **render_cni_restart(),
                opts=pulumi.ResourceOptions(
                    parent=self, provider=self.k8s_provider, depends_on=[self._cni]
                ),
            )
            k8s.storage.v1.StorageClass(
                f"{name}-gp3",
                **render_storage_class(),
                opts=pulumi.ResourceOptions(
                    parent=self, provider=self.k8s_provider, depends_on=[self._ebs_csi]
                ),
            )
        autoscaler = self._role(
            "cluster-autoscaler",
            iam.pod_identity_trust_policy(),
            (),
            inline=self.cluster_name.apply(iam.cluster_autoscaler_policy),
        )
        aws.eks.PodIdentityAssociation(
            f"{name}-cluster-autoscaler",
            cluster_name=self.cluster_name,
            namespace=AUTOSCALER_NAMESPACE,
            service_account=AUTOSCALER_SERVICE_ACCOUNT,
            role_arn=autoscaler.arn,
            opts=self._opts(depends_on=self.node_dependencies),
        )
        self.autoscaler_role_arn = autoscaler.arn
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "oidcIssuer": self.oidc_issuer,
                "kubeconfig": self.kubeconfig,
                "addonVersions": self.addon_versions,
            }
        )

    def _opts(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.provider, **kwargs)

    def _role(
        self,
        purpose: str,
        trust: str,
        managed: tuple[str, ...],
        inline: pulumi.Input[str] | None = None,
    ) -> aws.iam.Role:
        # Auto-named: IAM is global, so a fixed name would collide between regions.
        role = aws.iam.Role(f"{self._name}-{purpose}", assume_role_policy=trust, opts=self._opts())
        self._attachments[purpose] = [
            aws.iam.RolePolicyAttachment(
                f"{self._name}-{purpose}-{policy.rsplit('/', 1)[-1]}",
                role=role.name,
                policy_arn=iam.managed_policy_arn(self._args.cloud.partition, policy),
                opts=self._opts(),
            )
            for policy in managed
        ]
        if inline is not None:
            aws.iam.RolePolicy(
                f"{self._name}-{purpose}", role=role.id, policy=inline, opts=self._opts()
            )
        return role

    def _create(self, partition: str) -> pulumi.Output[str]:
        args, name, spec = self._args, self._name, self._args.cluster
        protect = args.production
        endpoint = spec.endpoint(args.production)
        network = EksNetwork(
            f"{name}-network",
            EksNetworkArgs(
                spec.name,
                spec.network_cidr,
                args.cloud.zones or (),
                args.production,
                args.provider,
                args.cloud.region,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.private_subnet_ids = network.private_subnet_ids
        self.node_dependencies += network.egress_ready
        cluster_role = self._role(
            "cluster", iam.service_trust_policy("eks.amazonaws.com"), iam.CLUSTER_POLICIES
        )
        key, logs = create_key_and_logs(
            name, spec.name, args.cloud.region, partition, protect, self, args.provider
        )
        cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=spec.name,
            version=spec.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(network.private_subnet_ids.values()),
                endpoint_private_access=True,
                endpoint_public_access=endpoint.public,
                public_access_cidrs=list(endpoint.cidrs) if endpoint.public else None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(LOG_TYPES),
            bootstrap_self_managed_addons=False,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=UPGRADE_SUPPORT),
            deletion_protection=args.production,
            opts=self._opts(protect=protect, depends_on=[logs, *self._attachments["cluster"]]),
        )
        self.cluster_name = cluster.name
        self.endpoint = cluster.endpoint
        self.oidc_issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        self.vpc_id = network.vpc_id
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id

        create_admin_access(name, cluster, spec.admin_role_arns, partition, self._opts())

        versions_ = spec.eks_addon_versions()
        pre: list[pulumi.Resource] = []
        for addon in PRE_NODE_ADDONS:
            # An add-on with an AWS identity waits for the identity agent, installed before it.
            after = list(pre) if addon in ADDON_IDENTITIES else None
            pre.append(self._addon(cluster, addon, versions_[addon], after))
        self.node_dependencies += pre
        system = create_system_nodes(
            name,
            spec,
            cluster,
            self.node_role_arn,
            list(self.private_subnet_ids.values()),
            args.tags,
            self._opts(depends_on=self.node_dependencies),
        )
        post = [self._addon(cluster, a, versions_[a], [system]) for a in POST_NODE_ADDONS]
        self._cni = pre[PRE_NODE_ADDONS.index("vpc-cni")]
        self._ebs_csi = post[POST_NODE_ADDONS.index("aws-ebs-csi-driver")]
        self.system_ready = [system, *post]
        return cluster.certificate_authority.apply(lambda ca: ca.data)

    def _addon(
        self,
        cluster: aws.eks.Cluster,
        addon: str,
        version: str | None,
        after: list[pulumi.Resource] | None,
    ) -> aws.eks.Addon:
        """An add-on, after `after`; one whose pods call AWS gets its role (ADDON_IDENTITIES)
        through Pod Identity, and waits for the role's policy too."""
        depends_on, associations = after, None
        if addon in ADDON_IDENTITIES:
            purpose, account, policy = ADDON_IDENTITIES[addon]
            role = self._role(purpose, iam.pod_identity_trust_policy(), (policy,))
            depends_on = [*(after or []), *self._attachments[purpose]]
            associations = [
                aws.eks.AddonPodIdentityAssociationArgs(role_arn=role.arn, service_account=account)
            ]
        resource = create_addon(
            self._name,
            cluster,
            addon,
            version,
            self._args.cluster.kubernetes_version,
            self._opts(depends_on=depends_on),
            pod_identity=associations,
        )
        self.addon_versions[addon] = resource.addon_version
        return resource

    def _adopt(self) -> pulumi.Output[str]:
        spec = self._args.cluster
        found = aws.eks.get_cluster_output(
            name=spec.name,
            opts=pulumi.InvokeOutputOptions(provider=self._args.provider, parent=self),
        )
        self.cluster_name = found.name
        self.endpoint = found.endpoint
        self.oidc_issuer = found.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        self.vpc_id = found.vpc_config.vpc_id
        self.cluster_security_group_id = found.vpc_config.cluster_security_group_id
        self.private_subnet_ids = {}
        return found.certificate_authorities.apply(lambda cas: cas[0].data)

    def subnet_ids(self, zones: tuple[str, ...]) -> pulumi.Output[list[str]]:
        """Private subnets in these zones (all private subnets when `zones` is empty)."""
        if self.private_subnet_ids:
            chosen = zones or tuple(self.private_subnet_ids)
            return pulumi.Output.all(*(self.private_subnet_ids[z] for z in chosen))

        # An adopted cluster's subnets are found by the tags EKS load balancing relies on.
        def lookup(vpc_id: str) -> pulumi.Output[list[str]]:
            filters = [
                aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc_id]),
                aws.ec2.GetSubnetsFilterArgs(
                    name="tag:kubernetes.io/role/internal-elb", values=["1"]
                ),
            ]
            if zones:
                filters.append(
                    aws.ec2.GetSubnetsFilterArgs(name="availability-zone", values=list(zones))
                )
            return aws.ec2.get_subnets_output(
                filters=filters,
                opts=pulumi.InvokeOutputOptions(provider=self._args.provider, parent=self),
            ).ids

        return self.vpc_id.apply(lookup)
