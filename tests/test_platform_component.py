"""The whole platform as a public component: Platform takes a stack config's settings as its
`config` (in any language, keys as the package schema spells them) and the secrets they need,
checks them by the stack config's own rules before creating anything, and builds the same
platform a stack builds."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from harness import ROOT, run_mocked
from pulumi.provider.experimental import host
from pulumi.provider.experimental.component import ComponentProvider

from gpu_platform import plugin
from gpu_platform.args import ArgsError
from gpu_platform.platform.component import Platform, PlatformArgs, settings
from stacks.config import parse
from stacks.platform import config_args

EXAMPLE = ROOT / "examples/yaml-platform/Pulumi.yaml"


def _provider() -> ComponentProvider:
    return ComponentProvider(plugin.COMPONENTS, plugin.NAME, plugin.NAMESPACE, "0.1.0")


def test_the_yaml_example_builds_the_platform_it_describes() -> None:
    """examples/yaml-platform cannot run here (Pulumi YAML needs the CLI), but Pulumi's own
    component provider host constructs its Platform from its properties, as the engine would
    hand them over, under the mock engine."""
    program = yaml.safe_load(EXAMPLE.read_text())
    resource = program["resources"]["platform"]
    provider = _provider()
    outputs = json.loads(provider.schema)["resources"][resource["type"]]["properties"]
    for expression in program["outputs"].values():
        assert expression.removeprefix("${platform.").removesuffix("}") in outputs
    state: dict[str, Any] = {}

    def program_() -> None:
        host.is_hosting = True
        try:
            result = provider.construct("staging", resource["type"], resource["properties"])
        finally:
            host.is_hosting = False
        state.update(result.state)

    recording = run_mocked(program_)
    assert recording.one("gpu-platform:index:Platform").name == "staging"
    assert set(state) == set(outputs)
    group = recording.one("aws:eks/nodeGroup:NodeGroup", "staging-l4-spot-ng")
    assert group.inputs["capacityType"] == "SPOT"
    server = recording.one("kubernetes:apps/v1:StatefulSet", "staging-qwen-7b-server")
    assert server.inputs["metadata"]["name"] == "vllm-qwen-7b"
    cluster = recording.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "staging-vectors-cluster")
    assert cluster.inputs["spec"]["storage"]["size"] == "20Gi"
    release = recording.one("kubernetes:helm.sh/v3:Release", "staging-prometheus-release")
    assert release.inputs["values"]["prometheus"]["prometheusSpec"]["retention"] == "7d"


def test_a_stacks_args_are_its_config_as_set() -> None:
    """The stack hands the component its config as written; the component rebuilds the same
    spec (defaults and all)."""
    text = (ROOT / "Pulumi.prod.yaml").read_text()
    config = parse(yaml.safe_load(text)["config"]["gpu-platform:platform"])
    receivers = {"pagerduty_routing_key": "key", "slack_webhook_url": "https://hooks/x"}
    spec, _ = settings({"config": config_args(config), **receivers})
    assert spec == config


BASE = {
    "environment": "team",
    "cloud": {"provider": "aws", "region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"]},
    "cluster": {"name": "team-gpu"},
    "node_pools": {"l4": {"gpu": "l4", "gpus_per_node": 1, "capacity": "spot", "max_nodes": 2}},
}


@pytest.mark.parametrize(
    ("config", "secrets", "expected"),
    [
        (
            {"cloud": {"provider": "aws", "region": "us-east-1", "project": "p"}},
            {},
            "PlatformArgs.config.cloud.project: ",
        ),
        (
            {
                "node_pools": {
                    "l4": {"gpu": "l4", "gpus_per_node": 1, "max_nodes": 2, "disk_gib": 1}
                }
            },
            {},
            "PlatformArgs.config.nodePools.l4.diskGib: ",
        ),
        (
            {
                "models": {
                    "llama": {
                        "source": "meta-llama/Llama-3.1-8B-Instruct",
                        "revision": "0e9e39f249a16976918f6564b8830bc894c89659",
                        "node_pool": "l4",
                        "max_replicas": 1,
                        "max_model_len": 8192,
                        "parameters_b": 8.0,
                    }
                }
            },
            {},
            "PlatformArgs.config.models.llama.source: meta-llama/Llama-3.1-8B-Instruct is gated",
        ),
        (
            {"observability": {"alerts": {"pagerduty": True}}},
            {},
            "PlatformArgs.pagerdutyRoutingKey: required",
        ),
        ({}, {"weaviate_api_key": "k"}, "PlatformArgs.weaviateApiKey: config.vectorStore.engine"),
        (
            {"production": True, "cluster": {"name": "team-gpu", "endpoint_access": "public"}},
            {},
            "PlatformArgs.config.cluster.publicAccessCidrs: ",
        ),
    ],
    ids=["other-clouds-key", "schema-key-names", "gated-model", "receiver", "unused-key", "prod"],
)
def test_bad_args_are_refused_before_anything_is_created(
    config: dict[str, Any], secrets: dict[str, Any], expected: str
) -> None:
    problems: list[str] = []

    def program() -> None:
        try:
            Platform("team", PlatformArgs(config={**BASE, **config}, **secrets))  # type: ignore[typeddict-item]
        except ArgsError as error:
            problems.extend(error.problems)

    assert run_mocked(program).resources == []
    assert any(p.startswith(expected) for p in problems), problems
