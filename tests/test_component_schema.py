"""Pulumi's own component analyzer (the one `pulumi package add` runs) describes the public
components: every one present, every input and output documented, the types as intended. And a
public component refuses bad args before it creates anything, naming the key as every language
spells it."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from harness import run_mocked
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.schema import generate_schema

from gpu_platform import plugin
from gpu_platform.addons.keda import Keda, KedaArgs
from gpu_platform.args import ArgsError


def _schema() -> dict[str, Any]:
    result = Analyzer(plugin.NAME).analyze(plugin.COMPONENTS)
    return generate_schema(
        plugin.NAME,
        "0.1.0",
        plugin.NAMESPACE,
        result["component_definitions"],
        result["type_definitions"],
        list(result["dependencies"]),
    ).to_json()


def test_every_public_component_is_in_the_schema_and_documented() -> None:
    schema = _schema()
    resources = schema["resources"]
    assert set(resources) == {f"{plugin.NAME}:index:{c.__name__}" for c in plugin.COMPONENTS}
    for token, resource in resources.items():
        assert resource["isComponent"] and resource["description"], token
        properties = {**resource["inputProperties"], **resource["properties"]}
        undocumented = [name for name, spec in properties.items() if not spec.get("description")]
        assert undocumented == [], token
    for token, definition in schema["types"].items():
        for name, spec in definition["properties"].items():
            assert spec.get("description"), f"{token}.{name}"


def test_keda_in_the_schema() -> None:
    schema = _schema()
    keda = schema["resources"]["gpu-platform:index:Keda"]
    assert keda["requiredInputs"] == ["kubernetesVersion"]
    assert keda["inputProperties"]["kubernetesVersion"]["type"] == "string"
    assert keda["inputProperties"]["chartVersion"]["type"] == "string"
    add_on = keda["inputProperties"]["httpAddOn"]["$ref"]
    assert add_on == "#/types/gpu-platform:index:KedaHttpAddOnArgs"
    add_on_type = schema["types"]["gpu-platform:index:KedaHttpAddOnArgs"]
    assert add_on_type["required"] == ["watchNamespace"]
    assert add_on_type["properties"]["highlyAvailable"]["type"] == "boolean"
    # Outputs: the namespace, and the releases other components wait for.
    assert keda["properties"]["namespace"]["type"] == "string"
    assert keda["properties"]["ready"]["$ref"].endswith("kubernetes:helm.sh%2Fv3:Release")
    assert {"name": "kubernetes", "version": pulumi_kubernetes_version()} in schema["dependencies"]


def pulumi_kubernetes_version() -> str:
    from importlib.metadata import version

    return version("pulumi-kubernetes")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"kubernetes_version": "1.20"}, "KedaArgs.kubernetesVersion: '1.20' is not one of"),
        (
            {"kubernetes_version": "1.36", "chart_version": "latest"},
            "KedaArgs.chartVersion: 'latest' is not a chart version",
        ),
        (
            {"kubernetes_version": "1.36", "http_add_on": {"watch_namespace": ""}},
            "KedaArgs.httpAddOn.watchNamespace: name the namespace",
        ),
    ],
)
def test_bad_args_are_refused_before_anything_is_created(args: dict, expected: str) -> None:
    created: list[str] = []

    def program() -> None:
        try:
            Keda("k", KedaArgs(**args))
        except ArgsError as error:
            created.append(str(error))

    recording = run_mocked(program)
    assert recording.resources == []
    (message,) = created
    assert message.startswith(expected)


def test_a_consumer_gives_keda_its_provider_through_options() -> None:
    def program() -> None:
        import pulumi_kubernetes as k8s

        provider = k8s.Provider("cluster", kubeconfig="{}")
        Keda(
            "keda",
            KedaArgs(kubernetes_version="1.36", http_add_on={"watch_namespace": "models"}),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )

    recording = run_mocked(program)
    custom = [r for r in recording.resources if r.custom and not r.type.startswith("pulumi:")]
    assert {r.name for r in custom} == {"keda-ns", "keda-release", "keda-http-release"}
    assert {r.provider for r in custom} == {"pulumi:providers:kubernetes::cluster"}
    add_on = recording.one("kubernetes:helm.sh/v3:Release", "keda-http-release")
    assert add_on.inputs["values"]["operator"]["watchNamespace"] == "models"
