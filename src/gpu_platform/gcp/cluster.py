"""GkeCluster: a regional GKE Standard cluster ready for GPU node pools, or an existing one
adopted by name.

Created clusters get a VPC-native network with secondary ranges for pods and services, private
nodes with Cloud NAT for egress, Workload Identity, shielded nodes, Dataplane V2 (which enforces
NetworkPolicy), a release channel, a least-privilege node service account and a small system node
pool in place of the default one. The component exposes a Kubernetes provider that authenticates
with `gke-gcloud-auth-plugin`, so no long-lived credential is stored in state.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from gpu_platform import kubeconfig, labels, versions
from gpu_platform.catalog import SYSTEM_MACHINE_TYPE
from gpu_platform.cloud import ClusterSpec, GcpCloudSpec
from gpu_platform.gcp.encryption import create_secrets_key
from gpu_platform.gcp.private_apis import create_private_google_apis

TOKEN = "gpuplatform:compute:GkeCluster"
# What nodes need to write logs and metrics and pull images; nothing more.
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)
OAUTH_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
PODS_RANGE, SERVICES_RANGE = "pods", "services"
WEBHOOK_PORTS = (6443, 9443)  # KEDA metrics API server, KEDA admission webhooks


def render_node_basics(disk_gib: int) -> dict:
    """Node settings every pool shares: COS, Workload Identity metadata, shielded boot."""
    return {
        "image_type": versions.GKE_IMAGE_TYPE,
        "disk_size_gb": disk_gib,
        "disk_type": "pd-balanced",
        "oauth_scopes": OAUTH_SCOPES,
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "shielded_instance_config": {
            "enable_secure_boot": True,
            "enable_integrity_monitoring": True,
        },
        "metadata": {"disable-legacy-endpoints": "true"},
    }


# Node settings GKE updates in place (the service account, an Output, changes only with the
# cluster's name, which replaces the whole cluster).
IN_PLACE_NODE_SETTINGS = frozenset(
    {"labels", "taints", "resource_labels", "service_account", "gcfs_config"}
)


def render_pool_name(pool_name: str, node_config: dict[str, Any]) -> str:
    """`<pool>-<6 hex>`, the hex a digest of the node settings that make GKE replace a node pool.

    A replacement therefore always gets a new name and Pulumi creates it before deleting the old
    pool; with a fixed name the provider must delete first, taking down every model on the pool.
    Settings that are updated in place do not rename it. At most 31 + 7 characters (GKE: 40).
    """
    replacing = {k: v for k, v in node_config.items() if k not in IN_PLACE_NODE_SETTINGS}
    digest = hashlib.sha256(json.dumps(replacing, sort_keys=True).encode()).hexdigest()
    return f"{pool_name}-{digest[:6]}"


def render_authorized_networks(cidrs: tuple[str, ...]) -> dict:
    """Who outside the VPC may reach the API: exactly `cidrs` (none for a private endpoint),
    not every Google Cloud address as GKE would otherwise allow."""
    return {
        "cidr_blocks": [
            {"cidr_block": cidr, "display_name": f"allowed-{i}"} for i, cidr in enumerate(cidrs)
        ],
        "gcp_public_cidrs_access_enabled": False,
    }


@dataclass(frozen=True)
class GkeClusterArgs:
    production: bool
    cloud: GcpCloudSpec
    cluster: ClusterSpec
    provider: pulumi.ProviderResource
    resource_labels: dict[str, str]


class GkeCluster(pulumi.ComponentResource):
    """A GKE cluster (created or adopted) and the Kubernetes provider built from it."""

    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    network_id: pulumi.Output[str]
    """The VPC network the cluster runs in (managed databases peer with it)."""
    workload_pool: str
    kubeconfig: pulumi.Output[str]
    k8s_provider: k8s.Provider
    node_service_account: pulumi.Output[str]
    node_account_ready: list[pulumi.Resource]
    """The node service account's role bindings; node pools depend on them."""
    system_ready: list[pulumi.Resource]
    """What cluster add-ons must wait for: the system node pool."""

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TOKEN, name, None, opts)
        self._args, self._name = args, name
        spec, cloud = args.cluster, args.cloud
        self.workload_pool = f"{cloud.project}.svc.id.goog"
        account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            account_id=f"{spec.name[:24]}-nodes",
            display_name=f"GKE nodes of {spec.name}",
            project=cloud.project,
            opts=self._opts(),
        )
        # Node pools wait for these, or nodes boot unable to write logs or pull images.
        self.node_account_ready = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.rsplit('/', 1)[-1]}",
                project=cloud.project,
                role=role,
                member=account.member,
                opts=self._opts(),
            )
            for role in NODE_ROLES
        ]
        self.node_service_account = account.email
        self.system_ready = []
        ca_data = self._create() if spec.create else self._adopt()
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster_name, self.endpoint, ca_data).apply(
                lambda v: kubeconfig.render_gke(v[0], v[1], v[2])
            )
        )
        self.k8s_provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "workloadPool": self.workload_pool,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _opts(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.provider, **kwargs)

    def _create(self) -> pulumi.Output[str]:
        args, name, spec, cloud = self._args, self._name, self._args.cluster, self._args.cloud
        endpoint = spec.endpoint(args.production)
        network = gcp.compute.Network(
            f"{name}-network",
            name=spec.name,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            project=cloud.project,
            opts=self._opts(),
        )
        subnet = gcp.compute.Subnetwork(
            f"{name}-nodes",
            name=f"{spec.name}-nodes",
            region=cloud.region,
            project=cloud.project,
            network=network.id,
            ip_cidr_range=spec.network_cidr,
            private_ip_google_access=True,
            secondary_ip_ranges=[
                {"range_name": PODS_RANGE, "ip_cidr_range": spec.effective_pods_cidr},
                {"range_name": SERVICES_RANGE, "ip_cidr_range": spec.effective_services_cidr},
            ],
            opts=self._opts(),
        )
        router = gcp.compute.Router(
            f"{name}-router",
            name=spec.name,
            region=cloud.region,
            project=cloud.project,
            network=network.id,
            opts=self._opts(),
        )
        # Private nodes have no external IPs; Cloud NAT gives them egress (image pulls, hubs).
        gcp.compute.RouterNat(
            f"{name}-nat",
            name=spec.name,
            router=router.name,
            region=cloud.region,
            project=cloud.project,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=self._opts(),
        )
        # Google APIs (Cloud Storage for model weights included) at one private range, which
        # the model servers' network policies allow instead of all public addresses.
        # The cluster (and so everything on it) waits for them: on an existing network, model
        # servers' policies never allow only that range before DNS answers with it.
        private_apis = create_private_google_apis(
            name, f"{spec.name}-googleapis", network, cloud.project, self._opts()
        )
        key, grant = create_secrets_key(
            name, spec.name, cloud.project, cloud.region, args.production, self, args.provider
        )
        cluster = gcp.container.Cluster(
            f"{name}-cluster",
            name=spec.name,
            project=cloud.project,
            location=cloud.region,
            network=network.id,
            subnetwork=subnet.id,
            min_master_version=spec.kubernetes_version,
            release_channel={"channel": spec.effective_release_channel},
            remove_default_node_pool=True,
            initial_node_count=1,
            # The default pool is deleted right after creation, but it must boot as our node
            # account: the default Compute Engine account may be disabled in the organisation.
            node_config={
                "service_account": self.node_service_account,
                "oauth_scopes": OAUTH_SCOPES,
            },
            workload_identity_config={"workload_pool": self.workload_pool},
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": not endpoint.public,
            },
            ip_allocation_policy={
                "cluster_secondary_range_name": PODS_RANGE,
                "services_secondary_range_name": SERVICES_RANGE,
            },
            datapath_provider="ADVANCED_DATAPATH",
            master_authorized_networks_config=render_authorized_networks(endpoint.cidrs),
            enable_shielded_nodes=True,
            database_encryption={"state": "ENCRYPTED", "key_name": key.id},
            addons_config={
                "gce_persistent_disk_csi_driver_config": {"enabled": True},
                "gcs_fuse_csi_driver_config": {"enabled": True},
            },
            # Scale idle GPU nodes down sooner than the default profile does.
            cluster_autoscaling={"autoscaling_profile": "OPTIMIZE_UTILIZATION"},
            logging_config={"enable_components": ["SYSTEM_COMPONENTS", "WORKLOADS"]},
            resource_labels=args.resource_labels,
            deletion_protection=args.production,
            opts=self._opts(
                protect=args.production,
                depends_on=[*self.node_account_ready, grant, *private_apis],
                # Describes only the removed default pool; changing it would replace the cluster.
                ignore_changes=["nodeConfig"],
            ),
        )
        # The control plane reaches private nodes only on 443 and 10250 by default; KEDA's
        # metrics API server (6443) and admission webhook (9443) must be reachable too, or
        # HPAs get no external metrics.
        gcp.compute.Firewall(
            f"{name}-control-plane-webhooks",
            name=f"{spec.name}-control-plane-webhooks",
            project=cloud.project,
            network=network.id,
            direction="INGRESS",
            source_ranges=cluster.private_cluster_config.apply(
                lambda config: [f"{config.private_endpoint}/32"]
            ),
            target_service_accounts=[self.node_service_account],
            allows=[{"protocol": "tcp", "ports": [str(p) for p in WEBHOOK_PORTS]}],
            opts=self._opts(),
        )
        system = spec.system_nodes
        zones = list(cloud.zones or ())
        node_config = {
            **render_node_basics(system.disk_gib),
            "machine_type": system.instance_type or SYSTEM_MACHINE_TYPE["gcp"],
            "service_account": self.node_service_account,
            "labels": labels.system_labels(),
            "resource_labels": args.resource_labels,
        }
        self.system_ready = [
            gcp.container.NodePool(
                f"{name}-system",
                # Replaced create-before-delete, like the GPU pools (gpu_platform/gcp/node_pool.py).
                name=render_pool_name(labels.SYSTEM_POOL, node_config),
                cluster=cluster.id,
                location=cloud.region,
                project=cloud.project,
                node_locations=zones,
                initial_node_count=1,
                autoscaling={
                    "total_min_node_count": system.min_nodes,
                    "total_max_node_count": system.max_nodes,
                    "location_policy": "BALANCED",
                },
                node_config=node_config,
                management={"auto_repair": True, "auto_upgrade": True},
                upgrade_settings={"max_surge": 1, "max_unavailable": 0},
                opts=self._opts(
                    depends_on=self.node_account_ready, ignore_changes=["initialNodeCount"]
                ),
            )
        ]
        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.endpoint = cluster.endpoint
        self.network_id = network.id
        return cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate)

    def _adopt(self) -> pulumi.Output[str]:
        spec, cloud = self._args.cluster, self._args.cloud
        found = gcp.container.get_cluster_output(
            name=spec.name,
            location=cloud.region,
            project=cloud.project,
            opts=pulumi.InvokeOutputOptions(provider=self._args.provider, parent=self),
        )
        self.cluster_name = found.name
        self.cluster_id = found.id
        self.endpoint = found.endpoint
        self.network_id = found.network
        return found.master_auths.apply(lambda auths: auths[0].cluster_ca_certificate)
