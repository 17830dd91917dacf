"""Pulumi's own component analyzer (the one `pulumi package add` runs) describes the public
components: every one present, every input and output documented, the types as intended. A
public component refuses bad args before it creates anything, naming the key as every language
spells it, and takes its provider from the consumer's resource options."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import jsonschema
import pulumi
import pytest
from harness import ROOT, run_mocked
from pulumi.provider.experimental.component import ComponentProvider

from gpu_platform import plugin
from gpu_platform.addons.gpu_operator import GpuOperator, GpuOperatorArgs
from gpu_platform.addons.keda import Keda, KedaArgs
from gpu_platform.args import ArgsError
from gpu_platform.aws.node_pool import EksGpuNodePool, EksGpuNodePoolArgs
from gpu_platform.serving.vllm_service import VllmService, VllmServiceArgs, settings


@functools.cache
def _schema() -> dict[str, Any]:
    """The schema the component provider host serves (`pulumi package add` reads it)."""
    provider = ComponentProvider(plugin.COMPONENTS, plugin.NAME, plugin.NAMESPACE, "0.1.0")
    return json.loads(provider.schema)


def test_the_schema_is_a_valid_pulumi_package_schema() -> None:
    """Checked against Pulumi's own package metaschema (pkg/codegen/schema/pulumi.json)."""
    # Its patterns are ECMA-262 regular expressions: named groups are `(?<name>` there and
    # `(?P<name>` in Python's, the one difference they use.
    text = (ROOT / "tests/upstream/pulumi/package-schema.json").read_text()
    metaschema = json.loads(text.replace("(?<", "(?P<"))
    validator = jsonschema.Draft202012Validator(metaschema)
    assert [e.message for e in validator.iter_errors(_schema())] == []
    # The metaschema is strict enough to notice a broken one.
    broken = {**_schema(), "resources": {"not a token": {}}}
    assert list(validator.iter_errors(broken))


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


def test_the_pool_args_are_generated_from_the_pool_spec() -> None:
    """One model holds each pool setting's type, default and description: the generated args
    module is what tools/argsgen.py makes of it today (`make docs`)."""
    from tools import argsgen

    for path, (doc, classes) in argsgen.MODULES.items():
        assert (ROOT / path).read_text() == argsgen.render_module(doc, classes), (
            f"{path} is out of date: run `make docs`"
        )
    pool = _schema()["types"]["gpu-platform:index:GpuPoolArgs"]
    assert set(pool["required"]) == {"gpu", "gpusPerNode", "capacity", "maxNodes"}
    assert pool["properties"]["minNodes"]["description"].endswith("Default: 0.")
    assert (
        "One of: on-demand, spot, reserved, capacity-block."
        in (pool["properties"]["capacity"]["description"])
    )
    assert pool["properties"]["sharing"]["$ref"] == "#/types/gpu-platform:index:GpuSharingArgs"


def test_the_node_pools_in_the_schema() -> None:
    resources = _schema()["resources"]
    eks = resources["gpu-platform:index:EksGpuNodePool"]
    assert set(eks["requiredInputs"]) == {
        "poolName",
        "pool",
        "clusterName",
        "kubernetesVersion",
        "nodeRoleArn",
        "subnetIds",
    }
    assert eks["properties"]["autoscalingGroupName"]["type"] == "string"
    gke = resources["gpu-platform:index:GkeGpuNodePool"]
    assert gke["inputProperties"]["zones"]["type"] == "array"
    assert gke["properties"]["nodePoolName"]["type"] == "string"


L4_SPOT = {"gpu": "l4", "gpus_per_node": 1, "capacity": "spot", "max_nodes": 3}


def _eks_args(pool_name: str, pool: dict) -> EksGpuNodePoolArgs:
    """A pool joining an existing cluster (names a consumer would have)."""
    return EksGpuNodePoolArgs(
        pool_name=pool_name,
        pool=pool,  # type: ignore[typeddict-item]
        cluster_name="existing",
        kubernetes_version="1.36",
        node_role_arn="arn:aws:iam::123456789012:role/nodes",
        subnet_ids=["subnet-1", "subnet-2"],
    )


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        ({**L4_SPOT, "gpus_per_node": 3}, "EksGpuNodePoolArgs.pool.gpusPerNode: aws has no l4"),
        ({**L4_SPOT, "capacity": "cheap"}, "EksGpuNodePoolArgs.pool.capacity:"),
        ({**L4_SPOT, "max_nodes": 0}, "EksGpuNodePoolArgs.pool.maxNodes:"),
        (
            {**L4_SPOT, "ami_release_version": "1.35.6-20260714"},
            "EksGpuNodePoolArgs.pool.amiReleaseVersion: release 1.35.6-20260714 is for",
        ),
    ],
)
def test_a_pool_is_checked_by_the_stack_configs_own_rules(pool: dict, expected: str) -> None:
    with pytest.raises(ArgsError) as caught:
        EksGpuNodePool("p", _eks_args("l4", pool))
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_a_consumer_adds_an_eks_pool_with_its_own_provider() -> None:
    def program() -> None:
        import pulumi_aws as aws

        provider = aws.Provider("account", region="us-east-1")
        EksGpuNodePool(
            "gpus",
            _eks_args("l4-spot", L4_SPOT),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )

    recording = run_mocked(program)
    group = recording.one("aws:eks/nodeGroup:NodeGroup")
    assert group.provider == "pulumi:providers:aws::account"
    assert group.inputs["capacityType"] == "SPOT"
    assert group.inputs["labels"]["gpuplatform.io/pool"] == "l4-spot"
    assert group.inputs["releaseVersion"].startswith("1.36.")
    template = recording.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert template.provider == "pulumi:providers:aws::account"


def test_the_plugin_directory_serves_the_public_components() -> None:
    """`pulumi package add ./provider`: a Python plugin whose entry point hosts
    gpu_platform.plugin.COMPONENTS, installing this repository's package."""
    import yaml

    plugin_yaml = yaml.safe_load((ROOT / "provider/PulumiPlugin.yaml").read_text())
    assert plugin_yaml["runtime"]["name"] == "python"
    entry = (ROOT / "provider/__main__.py").read_text()
    assert "from gpu_platform.plugin import main" in entry and "main()" in entry
    requirements = [
        line
        for line in (ROOT / "provider/requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    # The package, at uv.lock's versions (tests/test_package.py checks those are current).
    assert requirements == ["..", "-c constraints.txt"]
    assert (ROOT / "provider/../pyproject.toml").resolve() == ROOT / "pyproject.toml"


def test_the_gpu_operator_takes_the_pools_it_configures() -> None:
    operator = _schema()["resources"]["gpu-platform:index:GpuOperator"]
    pools = operator["inputProperties"]["pools"]
    assert pools["type"] == "object"
    assert pools["additionalProperties"]["$ref"] == "#/types/gpu-platform:index:GpuPoolArgs"
    assert set(operator["requiredInputs"]) == {"cloud", "kubernetesVersion", "pools"}
    with pytest.raises(ArgsError) as caught:
        GpuOperator(
            "gpu",
            GpuOperatorArgs(
                cloud="aws",
                kubernetes_version="1.36",
                pools={"l4": {**L4_SPOT, "gpus_per_node": 3}},  # type: ignore[dict-item]
            ),
        )
    assert caught.value.problems[0].startswith("GpuOperatorArgs.pools.l4.gpusPerNode: aws has no")


def test_a_consumer_installs_the_gpu_stack_for_its_pools() -> None:
    def program() -> None:
        import pulumi_kubernetes as k8s

        provider = k8s.Provider("cluster", kubeconfig="{}")
        GpuOperator(
            "gpu",
            GpuOperatorArgs(
                cloud="aws",
                kubernetes_version="1.36",
                pools={"l4": L4_SPOT},  # type: ignore[dict-item]
                service_monitor=False,
            ),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )

    recording = run_mocked(program)
    release = recording.one("kubernetes:helm.sh/v3:Release")
    assert release.provider == "pulumi:providers:kubernetes::cluster"
    assert release.inputs["chart"] == "gpu-operator"
    assert release.inputs["values"]["driver"]["enabled"] is False  # the AMI ships it


QWEN = {
    "source": "Qwen/Qwen2.5-7B-Instruct",
    "revision": "a09a35458c702b33eeacc393d103063234e8bc28",
    "node_pool": "l4",
    "max_replicas": 2,
    "max_model_len": 8192,
    "parameters_b": 7.6,
}

# Model service args of an L4 spot pool; `keda_release` only a ScaledObject would use.
SERVICE_ARGS = {
    "model_name": "qwen",
    "model": QWEN,
    "pools": {"l4": L4_SPOT},
    "cloud": "aws",
    "kubernetes_version": "1.36",
    "keda_release": "keda",
}


def test_the_model_service_in_the_schema() -> None:
    service = _schema()["resources"]["gpu-platform:index:VllmService"]
    inputs = service["inputProperties"]
    assert inputs["model"]["$ref"] == "#/types/gpu-platform:index:ModelArgs"
    assert inputs["kedaRelease"]["$ref"].endswith("kubernetes:helm.sh%2Fv3:Release")
    assert service["properties"]["url"]["type"] == "string"
    model = _schema()["types"]["gpu-platform:index:ModelArgs"]
    assert {"source", "maxReplicas", "parametersB"} <= set(model["required"])


def test_a_consumer_adds_one_model_to_an_existing_cluster() -> None:
    """A program with its own cluster: KEDA and one model on its L4 pool, the model checked
    by the stack config's rules (a 7.6B model fits one L4 at 8k context)."""
    urls = []

    def program() -> None:
        import pulumi_kubernetes as k8s

        provider = k8s.Provider("cluster", kubeconfig="{}")
        keda = Keda(
            "keda",
            KedaArgs(kubernetes_version="1.36"),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )
        service = VllmService(
            "qwen",
            VllmServiceArgs(
                model_name="qwen",
                model=QWEN,  # type: ignore[typeddict-item]
                pools={"l4": L4_SPOT},  # type: ignore[dict-item]
                cloud="aws",
                kubernetes_version="1.36",
                keda_release=keda.ready,
            ),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )
        service.url.apply(urls.append)

    recording = run_mocked(program)
    server = recording.one("kubernetes:apps/v1:StatefulSet")
    assert server.provider == "pulumi:providers:kubernetes::cluster"
    pod = server.inputs["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"gpuplatform.io/pool": "l4"}
    assert urls == ["http://vllm-qwen.inference.svc.cluster.local:8000/v1"]
    scaler = recording.one("kubernetes:keda.sh/v1alpha1:ScaledObject")
    assert "kubernetes:helm.sh/v3:Release::keda-release" in scaler.options["dependsOn"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"model": {**QWEN, "node_pool": "h100"}}, "VllmServiceArgs.model.nodePool: no pool h100"),
        ({"model": {**QWEN, "max_replicas": 0}}, "VllmServiceArgs.model.maxReplicas:"),
        (
            {"model": {**QWEN, "min_replicas": 0}},
            "VllmServiceArgs.httpAddOnRelease: the model scales to zero",
        ),
    ],
)
def test_a_model_is_checked_by_the_stack_configs_own_rules(change: dict, expected: str) -> None:
    args = {**SERVICE_ARGS, **change}
    with pytest.raises(ArgsError) as caught:
        VllmService("m", VllmServiceArgs(**args))  # type: ignore[typeddict-item]
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_the_typescript_example_uses_the_schemas_names() -> None:
    """examples/typescript-consumer cannot run here (it needs the SDK `pulumi package add`
    generates), but every component it creates and every key it passes is in the schema."""
    source = (ROOT / "examples/typescript-consumer/index.ts").read_text()
    schema = _schema()
    types = schema["types"]
    created = re.findall(r'new gpuPlatform\.(\w+)\("[^"]+", \{(.*?)\n\}', source, re.S)
    # Pieces on an existing EKS cluster, with one vector store: every other component but
    # the whole Platform (examples/yaml-platform, tests/test_platform_component.py) is in it.
    assert {name for name, _ in created} == {c.__name__ for c in plugin.COMPONENTS} - {
        "GkeGpuNodePool",
        "ManagedPgVector",
        "Weaviate",
        "Platform",
    }
    for name, body in created:
        inputs = schema["resources"][f"gpu-platform:index:{name}"]["inputProperties"]
        keys = re.findall(r"^    (\w+):", body, re.M)
        assert keys and set(keys) <= set(inputs), (name, set(keys) - set(inputs))
        assert set(schema["resources"][f"gpu-platform:index:{name}"]["requiredInputs"]) <= set(
            keys
        ), name
    pool = re.search(r"const l4 = \{(.*?)\};", source, re.S)
    assert pool
    pool_keys = set(re.findall(r"(\w+):", pool.group(1)))
    assert pool_keys <= set(types["gpu-platform:index:GpuPoolArgs"]["properties"])
    model = re.search(r"const qwen7b = \{(.*?)\n\};", source, re.S)
    assert model
    model_keys = set(re.findall(r"^    (\w+):", model.group(1), re.M))
    assert model_keys <= set(types["gpu-platform:index:ModelArgs"]["properties"])
    assert set(types["gpu-platform:index:ModelArgs"]["required"]) <= model_keys
    for key, type_name in (("store", "VectorStoreArgs"), ("cluster", "StoreClusterArgs")):
        found = re.search(rf"^    {key}: \{{(.*?)\}},$", source, re.M)
        assert found, key
        properties = types[f"gpu-platform:index:{type_name}"]
        keys = set(re.findall(r"(\w+): ", found.group(1)))
        assert keys <= set(properties["properties"]) | {"enabled"}, keys - set(properties)
        assert set(properties.get("required", [])) <= keys, type_name


def test_hosted_components_register_the_schemas_types() -> None:
    """Served by the component provider host, a component registers the type other languages'
    SDKs know (`gpu-platform:index:<Class>`); in a Python program, its own token, which
    existing stacks' URNs carry."""
    from pulumi.provider.experimental import host

    def program() -> None:
        Keda("keda", KedaArgs(kubernetes_version="1.36"))

    assert run_mocked(program).one("gpuplatform:addons:Keda").name == "keda"
    host.is_hosting = True
    try:
        assert run_mocked(program).one("gpu-platform:index:Keda").name == "keda"
    finally:
        host.is_hosting = False
    assert plugin.NAMESPACE is None, "the SDKs are @pulumi/gpu-platform, gpu_platform, ..."


ONE_ZONE_RESERVED = {
    "gpu": "l4",
    "gpus_per_node": 1,
    "capacity": "reserved",
    "reservation": "l4-reservation",
    "max_nodes": 2,
}


def _gke_pool(pool: dict, zones: list[str]) -> None:
    from gpu_platform.gcp.node_pool import GkeGpuNodePool, GkeGpuNodePoolArgs

    GkeGpuNodePool(
        "p",
        GkeGpuNodePoolArgs(
            pool_name="l4",
            pool=pool,  # type: ignore[typeddict-item]
            cluster_id="projects/p/locations/us-central1/clusters/c",
            kubernetes_version="1.36",
            project="p",
            region="us-central1",
            zones=zones,
            service_account="nodes@p.iam.gserviceaccount.com",
        ),
    )


def test_zone_rules_see_the_clusters_zones() -> None:
    """A reserved pool may rely on the cluster's one zone; with two it must name its own."""
    recording = run_mocked(lambda: _gke_pool(ONE_ZONE_RESERVED, ["us-central1-a"]))
    assert recording.one("gcp:container/nodePool:NodePool").inputs["nodeLocations"] == [
        "us-central1-a"
    ]
    with pytest.raises(ArgsError) as caught:
        _gke_pool(ONE_ZONE_RESERVED, ["us-central1-a", "us-central1-b"])
    assert caught.value.problems[0].startswith("GkeGpuNodePoolArgs.pool.zones:")


MIG_POOL = {
    "gpu": "a100-80gb",
    "gpus_per_node": 8,
    "capacity": "on-demand",
    "max_nodes": 1,
    "sharing": {"mode": "mig", "mig_profile": "1g.10gb"},
}
SMALL = {**QWEN, "parameters_b": 0.5, "max_model_len": 2048}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"model": {**QWEN, "node_pool": None, "node_pools": ["l4", "l4"]}}, "model.nodePools["),
        ({"model_name": "Bad Name"}, "modelName: lowercase letters"),
        ({"keda_release": None}, "kedaRelease: required"),
        ({"pools": {"l4": "spot"}}, "pools.l4: expected a map of settings"),
        ({"pools": {"l4": MIG_POOL}, "model": SMALL}, "migStrategy: a pool uses MIG"),
        ({"pools": {"l4": MIG_POOL}, "model": SMALL, "mig_strategy": "none"}, "need single"),
        ({"pools": {"l4": MIG_POOL}, "model": SMALL, "mig_strategy": "mixed"}, None),
    ],
)
def test_model_service_args_are_checked_with_their_key_paths(args: dict, expected: str) -> None:
    full = {**SERVICE_ARGS, **args}
    if expected is None:
        settings(full, [])  # type: ignore[arg-type]
        return
    with pytest.raises(ArgsError) as caught:
        settings(full, [])  # type: ignore[arg-type]
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_a_tiered_model_on_gke_names_the_compute_class_its_pods_select() -> None:
    l4_od = {**L4_SPOT, "capacity": "on-demand"}
    base = {
        "model_name": "qwen",
        "model": {**QWEN, "node_pool": None, "node_pools": ["l4", "l4-od"]},
        "pools": {"l4": L4_SPOT, "l4-od": l4_od},
        "cloud": "gcp",
        "kubernetes_version": "1.36",
        "keda_release": "keda",
    }
    with pytest.raises(ArgsError) as caught:
        settings(base, [])  # type: ignore[arg-type]
    (problem,) = caught.value.problems
    assert problem.startswith("VllmServiceArgs.computeClass: a model on several GKE pools")
    from gpu_platform.gcp.compute_class import class_name

    settings({**base, "compute_class": class_name(["l4", "l4-od"])}, [])  # type: ignore[arg-type]
