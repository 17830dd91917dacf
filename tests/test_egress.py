"""Where model servers may connect: DNS, and HTTPS to where their weights are. Object-store
models reach only the store (S3's regional prefix list through the VPC's gateway endpoint, or
Google's private API range through a private DNS zone) and their credential endpoint; hub
models reach public addresses only."""

from __future__ import annotations

import ipaddress

import pytest
from harness import platform_config, recorded
from upstream_checks import k8s_errors

from gpu_platform.aws import network
from gpu_platform.gcp.private_apis import PRIVATE_GOOGLE_APIS, render_records
from gpu_platform.serving import exposure
from gpu_platform.serving.weights_access import s3_addresses
from tools.mockdata import PlanMocks
from tools.mockengine import run_program

NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
HTTPS = [{"protocol": "TCP", "port": 443}]


def _https_peers(policy: dict) -> list[dict]:
    (rule,) = [r for r in policy["spec"]["egress"] if r["ports"] == HTTPS]
    return rule["to"]


def _admits(peer: dict, address: str) -> bool:
    block = peer["ipBlock"]
    ip = ipaddress.ip_address(address)
    inside = ip in ipaddress.ip_network(block["cidr"])
    return inside and not any(ip in ipaddress.ip_network(c) for c in block.get("except", []))


def test_a_hub_model_reaches_public_addresses_only() -> None:
    policy = exposure.render_network_policy("vllm-m", "inference")
    (peer,) = _https_peers(policy)
    for address in ("10.0.12.7", "172.20.0.1", "192.168.1.1", "100.64.3.3", "169.254.169.254"):
        assert not _admits(peer, address), address
    for address in ("18.160.10.1", "104.18.0.1"):  # CDN addresses the hub is served from
        assert _admits(peer, address), address
    # The API server refuses an `except` outside its `cidr`.
    outer = ipaddress.ip_network(peer["ipBlock"]["cidr"])
    assert all(ipaddress.ip_network(c).subnet_of(outer) for c in peer["ipBlock"]["except"])
    assert len(policy["spec"]["egress"]) == 2, "DNS and HTTPS, no credential endpoint"
    assert k8s_errors(policy, "1.36") == []


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_an_object_store_model_reaches_the_store_and_its_credentials_only(cloud: str) -> None:
    store = ["52.216.0.0/15", "3.5.0.0/19"]
    policy = exposure.render_network_policy(
        "vllm-m", "inference", object_store=store, credentials_from=cloud
    )
    assert _https_peers(policy) == [{"ipBlock": {"cidr": c}} for c in store]
    others = [r for r in policy["spec"]["egress"] if r["ports"] != HTTPS]
    endpoints = {(r["to"][0]["ipBlock"]["cidr"], r["ports"][0]["port"]) for r in others[1:]}
    assert endpoints == set(exposure.CREDENTIAL_ENDPOINTS[cloud])
    assert not any(_admits(peer, "8.8.8.8") for peer in _https_peers(policy))
    assert k8s_errors(policy, "1.36") == []


def test_an_empty_store_is_refused_not_opened() -> None:
    """A NetworkPolicy rule with no peers admits every address."""
    with pytest.raises(ValueError, match="no addresses"):
        exposure.render_network_policy("vllm-m", "inference", object_store=[])


class _PrefixListMocks(PlanMocks):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def call(self, args):  # the SDK's signature
        if args.token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
            self.asked.append(args.args["name"])
            return {
                "id": "pl-63a5400a",
                "name": args.args["name"],
                "entries": [{"cidr": "54.231.0.0/16"}, {"cidr": "3.5.0.0/19"}],
            }, []
        return super().call(args)


def test_s3_addresses_come_from_the_regions_managed_prefix_list() -> None:
    import pulumi
    import pulumi_aws as aws

    found: list[list[str]] = []
    mocks = _PrefixListMocks()

    def program() -> None:
        provider = aws.Provider("aws", region="eu-west-1")
        s3_addresses("eu-west-1", provider).apply(found.append)
        pulumi.export("done", True)

    run_program(program, project="gpu-platform", stack="test", config={}, engine_mocks=mocks)
    assert mocks.asked == ["com.amazonaws.eu-west-1.s3"] == [network.s3_service("eu-west-1")]
    assert found == [["3.5.0.0/19", "54.231.0.0/16"]]


def test_the_vpc_sends_s3_through_a_gateway_endpoint_from_every_private_subnet() -> None:
    prod = recorded("prod")
    endpoint = prod.one("aws:ec2/vpcEndpoint:VpcEndpoint").inputs
    assert endpoint["vpcEndpointType"] == "Gateway"
    assert endpoint["serviceName"] == "com.amazonaws.us-east-1.s3"
    zones = platform_config("prod")["cloud"]["zones"]
    tables = endpoint["routeTableIds"]
    assert len(tables) == len(zones)
    for zone in zones:
        assert any(t.startswith(f"prod-cluster-network-private-{zone}-") for t in tables), zone
    assert not any("public" in t for t in tables)


def test_gke_networks_reach_google_apis_at_the_private_range() -> None:
    gke = recorded("gcp-dev")
    zone = gke.one("gcp:dns/managedZone:ManagedZone").inputs
    network_id = gke.one("gcp:compute/network:Network").name
    assert (zone["dnsName"], zone["visibility"]) == ("googleapis.com.", "private")
    (attached,) = zone["privateVisibilityConfig"]["networks"]
    assert attached["networkUrl"].startswith(network_id)
    records = {r.inputs["type"]: r.inputs for r in gke.of_type("gcp:dns/recordSet:RecordSet")}
    assert set(records) == {"A", "CNAME"}
    assert records["CNAME"]["name"] == "*.googleapis.com."
    assert records["CNAME"]["rrdatas"] == [records["A"]["name"]] == ["private.googleapis.com."]
    private = ipaddress.ip_network(PRIVATE_GOOGLE_APIS)
    assert {ipaddress.ip_address(a) for a in records["A"]["rrdatas"]} == set(private)
    assert [r["type"] for r in render_records()] == ["A", "CNAME"]
    # Everything on the cluster waits for the zone: no policy narrows GCS to the range first.
    cluster = gke.one("gcp:container/cluster:Cluster")
    dns = {r.key for r in gke.resources if r.type.startswith("gcp:dns/")}
    assert len(dns) == 3 and dns <= set(cluster.options["dependsOn"])
