"""The whole platform as a public component: Platform takes a stack config's settings as its
`config` (in any language, keys as the package schema spells them) and the secrets they need,
checks them by the stack config's own rules before creating anything, and builds the same
platform a stack builds."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
import yaml
from harness import ROOT, run_mocked
from pulumi.provider.experimental.component import ComponentProvider
from pydantic.alias_generators import to_snake

from gpu_platform import plugin
from gpu_platform.args import ArgsError
from gpu_platform.platform.component import Platform, PlatformArgs, settings
from stacks.config import parse
from stacks.platform import config_args

EXAMPLE = ROOT / "examples/yaml-platform/Pulumi.yaml"


@functools.cache
def _schema() -> dict[str, Any]:
    provider = ComponentProvider(plugin.COMPONENTS, plugin.NAME, plugin.NAMESPACE, "0.1.0")
    return json.loads(provider.schema)


def _python_args(value: Any, spec: dict[str, Any]) -> Any:
    """A value written with the schema's names (as Pulumi YAML, TypeScript, ... write it) as
    the Python args the host hands the component: each object's keys by the schema's
    properties, map keys (pool and model names) as they are. Fails on a key the schema lacks."""
    types = _schema()["types"]
    ref = spec.get("$ref", "")
    if ref.startswith("#/types/"):
        properties = types[ref.removeprefix("#/types/")]["properties"]
        unknown = set(value) - set(properties)
        assert not unknown, f"not in the schema: {unknown}"
        return {to_snake(k): _python_args(v, properties[k]) for k, v in value.items()}
    if spec.get("type") == "object" and "additionalProperties" in spec:
        return {k: _python_args(v, spec["additionalProperties"]) for k, v in value.items()}
    if spec.get("type") == "array":
        return [_python_args(v, spec["items"]) for v in value]
    return value


def _example_args() -> PlatformArgs:
    program = yaml.safe_load(EXAMPLE.read_text())
    resource = program["resources"]["platform"]
    token = resource["type"]
    inputs = _schema()["resources"][token]["inputProperties"]
    return {
        to_snake(key): _python_args(value, inputs[key])  # type: ignore[misc]
        for key, value in resource["properties"].items()
    }


def test_the_yaml_example_builds_the_platform_it_describes() -> None:
    """examples/yaml-platform cannot run here (Pulumi YAML needs the CLI), but its properties,
    translated by the schema, build a whole platform under the mock engine."""
    program = yaml.safe_load(EXAMPLE.read_text())
    outputs = _schema()["resources"]["gpu-platform:index:Platform"]["properties"]
    for expression in program["outputs"].values():
        assert expression.removeprefix("${platform.").removesuffix("}") in outputs
    args = _example_args()
    recording = run_mocked(lambda: Platform("staging", args))
    assert recording.one("gpuplatform:index:Platform").name == "staging"
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
