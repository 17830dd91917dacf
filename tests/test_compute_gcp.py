"""GKE under the mock engine: private regional cluster and GPU node pools."""

from __future__ import annotations

import json
import re

import pytest
from harness import GCP_PRODUCTION_STACK, gcp_production, platform_config, recorded, run_main

from gpu_platform import versions
from gpu_platform.serving import exposure
from tools.mockengine import Recording

NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NODE_POOL = "gcp:container/nodePool:NodePool"

POOLS = {
    "l4-spot": {
        "gpu": "l4",
        "gpusPerNode": 1,
        "instanceTypes": ["g2-standard-8"],
        "capacity": "spot",
        "maxNodes": 4,
    },
    "a100-mig": {
        "gpu": "a100-40gb",
        "gpusPerNode": 1,
        "capacity": "on-demand",
        "maxNodes": 2,
        "sharing": {"mode": "mig", "migProfile": "1g.5gb"},
    },
    "l4-shared": {
        "gpu": "l4",
        "gpusPerNode": 2,
        "capacity": "on-demand",
        "minNodes": 2,
        "maxNodes": 4,
        "sharing": {"mode": "time-slicing", "replicas": 4},
    },
    "h100-reserved": {
        "gpu": "h100",
        "gpusPerNode": 8,
        "capacity": "reserved",
        "reservation": "h100-block",
        "zones": ["us-central1-c"],
        "minNodes": 1,
        "maxNodes": 1,
    },
}


@pytest.fixture(scope="module")
def gke() -> Recording:
    config = platform_config("gcp-dev")
    config["nodePools"] = POOLS
    config.pop("models", None)  # they name pools this stack replaces
    return run_main(config, stack="gcp-dev")


def _pool(recording: Recording, name: str) -> dict:
    return recording.one(NODE_POOL, f"gcp-dev-{name}-np").inputs


def test_accelerators_per_pool(gke: Recording) -> None:
    l4 = _pool(gke, "l4-spot")["nodeConfig"]
    assert l4["machineType"] == "g2-standard-8"
    (accelerator,) = l4["guestAccelerators"]
    assert accelerator["type"] == "nvidia-l4" and accelerator["count"] == 1
    assert accelerator["gpuDriverInstallationConfig"] == {
        "gpuDriverVersion": versions.GKE_GPU_DRIVER_VERSION
    }
    assert "gpuPartitionSize" not in accelerator and "gpuSharingConfig" not in accelerator

    mig = _pool(gke, "a100-mig")["nodeConfig"]["guestAccelerators"][0]
    assert mig["type"] == "nvidia-tesla-a100"
    assert mig["gpuPartitionSize"] == "1g.5gb"

    shared = _pool(gke, "l4-shared")["nodeConfig"]
    assert shared["machineType"] == "g2-standard-24"
    assert shared["guestAccelerators"][0]["gpuSharingConfig"] == {
        "gpuSharingStrategy": "TIME_SHARING",
        "maxSharedClientsPerGpu": 4,
    }


def test_spot_and_reservations(gke: Recording) -> None:
    spot = _pool(gke, "l4-spot")
    assert spot["nodeConfig"]["spot"] is True
    assert spot["autoscaling"]["locationPolicy"] == "ANY"
    assert spot["nodeConfig"]["reservationAffinity"] == {"consumeReservationType": "NO_RESERVATION"}
    assert spot["nodeConfig"]["taints"] == [
        {"key": "gpuplatform.io/spot", "value": "true", "effect": "NO_SCHEDULE"}
    ]
    reserved = _pool(gke, "h100-reserved")
    assert reserved["nodeConfig"]["spot"] is False
    assert reserved["nodeConfig"]["reservationAffinity"] == {
        "consumeReservationType": "SPECIFIC_RESERVATION",
        "key": "compute.googleapis.com/reservation-name",
        "values": ["h100-block"],
    }
    assert reserved["nodeLocations"] == ["us-central1-c"]
    assert reserved["upgradeSettings"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert reserved["autoscaling"]["locationPolicy"] == "BALANCED"


def test_autoscaling_uses_totals_and_zones(gke: Recording) -> None:
    shared = _pool(gke, "l4-shared")
    assert shared["autoscaling"]["totalMinNodeCount"] == 2
    assert shared["autoscaling"]["totalMaxNodeCount"] == 4
    assert shared["nodeLocations"] == ["us-central1-a", "us-central1-c"]
    assert shared["initialNodeCount"] == 1  # per zone: 2 nodes over 2 zones
    assert _pool(gke, "l4-spot")["initialNodeCount"] == 0
    for pool in gke.of_type(NODE_POOL):
        assert "initialNodeCount" in pool.options["ignoreChanges"]


def test_gpu_nodes_are_hardened_and_labelled(gke: Recording) -> None:
    for name in POOLS:
        config = _pool(gke, name)["nodeConfig"]
        assert config["imageType"] == "COS_CONTAINERD"
        assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert config["shieldedInstanceConfig"] == {
            "enableSecureBoot": True,
            "enableIntegrityMonitoring": True,
        }
        assert config["serviceAccount"].endswith("@my-gpu-project.iam.gserviceaccount.com")
        assert config["labels"]["gpuplatform.io/pool"] == name
        assert config["labels"]["gpuplatform.io/gpu"] == POOLS[name]["gpu"]
        # GKE partitions and shares GPUs itself: no GPU Operator labels on GKE nodes.
        assert not [k for k in config["labels"] if k.startswith("nvidia.com/")]
        # GKE taints GPU nodes nvidia.com/gpu=present itself; a second value would be rejected.
        assert not [t for t in config.get("taints", []) if t["key"] == "nvidia.com/gpu"]


def test_cluster_is_private_regional_and_locked_down(gke: Recording) -> None:
    cluster = gke.one("gcp:container/cluster:Cluster").inputs
    assert cluster["location"] == "us-central1"
    assert cluster["minMasterVersion"] == "1.36"
    assert cluster["releaseChannel"] == {"channel": "REGULAR"}
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["workloadIdentityConfig"] == {"workloadPool": "my-gpu-project.svc.id.goog"}
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"
    assert cluster["enableShieldedNodes"] is True
    assert cluster["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "pods",
        "servicesSecondaryRangeName": "services",
    }
    subnet = gke.one("gcp:compute/subnetwork:Subnetwork").inputs
    ranges = {r["rangeName"]: r["ipCidrRange"] for r in subnet["secondaryIpRanges"]}
    assert ranges == {"pods": "10.64.0.0/14", "services": "10.68.0.0/20"}
    assert subnet["privateIpGoogleAccess"] is True
    nat = gke.one("gcp:compute/routerNat:RouterNat").inputs
    assert nat["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    system = gke.one(NODE_POOL, "gcp-dev-cluster-system").inputs
    assert system["nodeConfig"]["machineType"] == "e2-standard-4"
    assert "guestAccelerators" not in system["nodeConfig"]
    assert gke.outputs["workloadPool"] == "my-gpu-project.svc.id.goog"
    assert gke.outputs["kubeconfig"] == "[secret]"


def test_control_plane_reaches_keda_on_private_nodes(gke: Recording) -> None:
    firewall = gke.one("gcp:compute/firewall:Firewall").inputs
    assert firewall["direction"] == "INGRESS"
    assert firewall["sourceRanges"] == ["10.0.0.2/32"]
    assert firewall["allows"] == [{"protocol": "tcp", "ports": ["6443", "9443"]}]
    assert firewall["targetServiceAccounts"][0].startswith("gp-gcp-dev-nodes@")


def test_node_service_account_has_only_what_nodes_need(gke: Recording) -> None:
    roles = {r.inputs["role"] for r in gke.of_type("gcp:projects/iAMMember:IAMMember")}
    assert roles == {
        "roles/logging.logWriter",
        "roles/monitoring.metricWriter",
        "roles/monitoring.viewer",
        "roles/stackdriver.resourceMetadata.writer",
        "roles/artifactregistry.reader",
    }


def test_nodes_wait_for_their_service_account_roles(gke: Recording) -> None:
    roles = {r.key for r in gke.of_type("gcp:projects/iAMMember:IAMMember")}
    for pool in gke.of_type(NODE_POOL):
        assert roles <= set(pool.options["dependsOn"]), pool.name
    cluster = gke.one("gcp:container/cluster:Cluster")
    assert cluster.inputs["nodeConfig"]["serviceAccount"].startswith("gp-gcp-dev-nodes@")
    assert cluster.options["ignoreChanges"] == ["nodeConfig"]


def test_labels_are_valid_gcp_labels() -> None:
    assert GCP_PRODUCTION_STACK == "Team.Prod"
    labels = json.loads(gcp_production().one("pulumi:providers:gcp").inputs["defaultLabels"])
    assert labels["gpuplatform_io_stack"] == "team_prod"
    for key, value in labels.items():
        assert re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key) and re.fullmatch(
            r"[a-z0-9_-]{0,63}", value
        )


def test_production_gke_cluster_is_protected() -> None:
    cluster = gcp_production().one("gcp:container/cluster:Cluster")
    assert cluster.options["protect"] and cluster.inputs["deletionProtection"] is True


def test_adopted_gke_cluster_registers_no_cluster() -> None:
    config = platform_config("gcp-dev")
    config["cluster"]["create"] = False
    config["models"]["weights"] = {
        "source": "gs://model-bucket/llama/",
        "nodePool": "l4-spot",
        "maxReplicas": 1,
        "parametersB": 8.0,
    }
    recording = run_main(config)
    for absent in (
        "gcp:container/cluster:Cluster",
        "gcp:compute/network:Network",
        "gcp:dns/managedZone:ManagedZone",
    ):
        assert recording.of_type(absent) == []
    # The platform leaves an adopted network's DNS alone, so Cloud Storage has no fixed
    # addresses there: object-store weights get the hub's rule (public addresses on 443).
    policy = recording.one(NETPOL, "gcp-dev-weights-netpol").inputs
    hub = exposure.render_network_policy("m", "inference")
    assert policy["spec"]["egress"][1] == hub["spec"]["egress"][1]
    pool = recording.one(NODE_POOL, "gcp-dev-l4-spot-np").inputs
    assert pool["cluster"].endswith("/clusters/gp-gcp-dev")
    assert recording.outputs["clusterEndpoint"] == "203.0.113.20"


def test_secrets_are_encrypted_with_a_cloud_kms_key_gke_may_use() -> None:
    gke = recorded("gcp-dev")
    cluster = gke.one("gcp:container/cluster:Cluster")
    key = gke.one("gcp:kms/cryptoKey:CryptoKey")
    grant = gke.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").inputs
    assert cluster.inputs["databaseEncryption"]["state"] == "ENCRYPTED"
    assert cluster.inputs["databaseEncryption"]["keyName"] == grant["cryptoKeyId"]
    assert key.inputs["rotationPeriod"] == "7776000s"
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant["member"] == (
        "serviceAccount:service-123456789012@container-engine-robot.iam.gserviceaccount.com"
    )
    assert (
        "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember::gcp-dev-cluster-secrets-gke"
        in (cluster.options["dependsOn"])
    ), "the grant exists before the cluster encrypts with the key"
