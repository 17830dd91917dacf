"""Who reaches the Kubernetes API: private by default in production on both clouds, public only
from named ranges there, and a plan warning when a production API is open to the internet."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from harness import (
    PLATFORM_KEY,
    gcp_production,
    platform_config,
    prod_variant,
    prod_variant_config,
    recorded,
)

from stacks.config import ConfigError, parse
from tools.findings import check

EKS = "aws:eks/cluster:Cluster"
GKE = "gcp:container/cluster:Cluster"


def _findings(recording: Any, platform: dict) -> list[str]:
    config = {"pulumi:disable-default-providers": ["*"], PLATFORM_KEY: platform}
    return [f.rule for f in check(recording.resources, config)]


def test_production_apis_are_private_and_not_flagged() -> None:
    prod = recorded("prod")
    vpc = prod.one(EKS).inputs["vpcConfig"]
    assert (vpc["endpointPrivateAccess"], vpc["endpointPublicAccess"]) == (True, False)
    assert "private-api" not in _findings(prod, platform_config("prod"))


def test_a_production_gke_api_is_private_by_default() -> None:
    cluster = gcp_production().one(GKE).inputs
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is True
    networks = cluster["masterAuthorizedNetworksConfig"]
    assert networks == {"cidrBlocks": [], "gcpPublicCidrsAccessEnabled": False}


def test_dev_apis_are_public_without_a_warning() -> None:
    vpc = recorded("dev").one(EKS).inputs["vpcConfig"]
    assert (vpc["endpointPrivateAccess"], vpc["endpointPublicAccess"]) == (True, True)
    assert "private-api" not in _findings(recorded("dev"), platform_config("dev"))


def test_the_dev_gke_api_is_public() -> None:
    dev = recorded("gcp-dev").one(GKE).inputs
    assert dev["privateClusterConfig"]["enablePrivateEndpoint"] is False
    assert [b["cidrBlock"] for b in dev["masterAuthorizedNetworksConfig"]["cidrBlocks"]] == [
        "0.0.0.0/0"
    ]


def test_a_production_api_open_to_anywhere_is_a_warning() -> None:
    config = prod_variant_config()
    assert config["cluster"]["publicAccessCidrs"] == ["0.0.0.0/0"]
    recording = prod_variant()
    vpc = recording.one(EKS).inputs["vpcConfig"]
    assert (vpc["endpointPublicAccess"], vpc["publicAccessCidrs"]) == (True, ["0.0.0.0/0"])
    assert "private-api" in _findings(recording, config)
    # The same cluster open to named ranges only is not flagged.
    named = copy.deepcopy(recording)
    for r in named.of_type(EKS):
        r.inputs["vpcConfig"]["publicAccessCidrs"] = ["34.120.0.0/16"]
    assert "private-api" not in _findings(named, config)


@pytest.mark.parametrize(
    ("stack", "cluster", "message"),
    [
        (
            "prod",
            {"endpointAccess": "public"},
            "cluster.publicAccessCidrs: a public API in production must name the CIDR blocks",
        ),
        (
            "prod",
            {"publicAccessCidrs": ["34.120.0.0/16"]},
            "cluster.publicAccessCidrs: only used with endpointAccess: public (the API is private "
            "by default in production)",
        ),
        (
            "dev",
            {"endpointAccess": "private", "publicAccessCidrs": ["34.120.0.0/16"]},
            "cluster.publicAccessCidrs: only used with endpointAccess: public",
        ),
        ("dev", {"publicAccessCidrs": []}, "cluster.publicAccessCidrs: an empty list lets no one"),
        ("dev", {"endpointAccess": "internal"}, "cluster.endpointAccess:"),
    ],
)
def test_endpoint_settings_that_cannot_work(stack: str, cluster: dict, message: str) -> None:
    config = platform_config(stack)
    config["cluster"] |= cluster
    with pytest.raises(ConfigError) as caught:
        parse(config)
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems
