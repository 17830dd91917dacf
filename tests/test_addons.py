"""Cluster add-ons: Helm values checked against the upstream charts, Kubernetes objects against
the schemas of each stack's Kubernetes version, and the wiring per cloud under the mock engine."""

from __future__ import annotations

import copy
import functools
import re

import jsonschema
import pytest
import yaml
from harness import (
    RecordedStacks,
    dev_variant,
    kubernetes_version,
    prod_variant,
    prod_variant_config,
)
from upstream_checks import (
    chart_values,
    chart_version,
    charts_dir,
    load,
    merge,
    recorded_object_errors,
    unknown_keys,
)

from gpu_platform import k8s_versions, labels, versions
from gpu_platform.addons.gpu_operator import render_dcgm_exporter_values
from gpu_platform.pools import NodePoolSpec
from tools.mockengine import Recording

RELEASE = "kubernetes:helm.sh/v3:Release"
# Vendored folder (tests/upstream/charts) of each chart the platform installs.
REFERENCE_CHART = {
    "gpu-operator": "gpu-operator",
    "keda": "keda",
    "dcgm-exporter": "dcgm-exporter",
    "kube-prometheus-stack": "kube-prometheus-stack",
    "cluster-autoscaler": "cluster-autoscaler",
    "cloudnative-pg": "cloudnative-pg",
    "weaviate": "weaviate",
    "opencost": "opencost",
    "keda-add-ons-http": "keda-add-ons-http",
}


# Keys a chart's templates read but its values.yaml only shows in comments; each is checked
# against the templates instead.
TEMPLATE_ONLY_KEYS = {"gpu-operator": ("dcgmExporter.config",)}


@pytest.fixture(scope="module")
def stacks() -> RecordedStacks:
    return RecordedStacks()


def _release(recording: Recording, chart: str):
    (release,) = [r for r in recording.of_type(RELEASE) if r.inputs["chart"] == chart]
    return release


def test_pinned_chart_versions_match_the_reference() -> None:
    assert versions.KEDA_CHART[1] == chart_version("keda") == "2.20.2"
    assert versions.KUBE_PROMETHEUS_STACK_CHART[1] == chart_version("kube-prometheus-stack")
    assert versions.DCGM_EXPORTER_CHART[1] == chart_version("dcgm-exporter") == "4.8.2"
    # The repository's Chart.yaml carries placeholders; the published chart is v26.7.0.
    assert versions.GPU_OPERATOR_CHART[1] == "v26.7.0"


def test_cluster_autoscaler_minor_matches_each_kubernetes_version() -> None:
    """The vendored chart is the pinned one of the newest versions; its app (or the image tag
    that replaces it) is the cluster's minor."""
    chart = load(charts_dir() / "cluster-autoscaler/Chart.yaml")
    for minor in ("1.35", "1.36"):
        assert k8s_versions.CLUSTER_AUTOSCALER[minor].chart == chart["version"] == "9.59.0"
    assert str(chart["appVersion"]).startswith("1.35.")
    assert chart_values("cluster-autoscaler")["image"]["tag"] == "v1.35.0"
    assert k8s_versions.CLUSTER_AUTOSCALER["1.35"].image_tag is None
    assert k8s_versions.CLUSTER_AUTOSCALER["1.36"].image_tag == "v1.36.1"
    assert k8s_versions.CLUSTER_AUTOSCALER["1.34"] == k8s_versions.AutoscalerRelease("9.53.0")
    assert set(k8s_versions.CLUSTER_AUTOSCALER) == set(k8s_versions.SUPPORTED)


@pytest.mark.parametrize("stack", ["dev", "prod", "gcp-dev"])
def test_every_values_key_exists_upstream(stacks: RecordedStacks, stack: str) -> None:
    checked = 0
    for release in stacks[stack].of_type(RELEASE):
        chart = release.inputs["chart"]
        assert release.inputs["version"] in {
            versions.GPU_OPERATOR_CHART[1],
            versions.KEDA_CHART[1],
            versions.DCGM_EXPORTER_CHART[1],
            versions.KUBE_PROMETHEUS_STACK_CHART[1],
            versions.CLOUDNATIVE_PG_CHART[1],
            versions.WEAVIATE_CHART[1],
            versions.OPENCOST_CHART[1],
            versions.KEDA_HTTP_CHART[1],
            *(r.chart for r in k8s_versions.CLUSTER_AUTOSCALER.values()),
        }
        # gpu-operator's Chart.yaml carries placeholders at its release tag (v26.7.0).
        vendored = "v26.7.0" if chart == "gpu-operator" else chart_version(REFERENCE_CHART[chart])
        if release.inputs["version"] != vendored:
            continue  # a chart version whose values.yaml is not vendored
        values = copy.deepcopy(release.inputs["values"])
        for path in TEMPLATE_ONLY_KEYS.get(chart, ()):
            *parents, key = path.split(".")
            reference = ".Values." + path
            templates = (charts_dir() / REFERENCE_CHART[chart] / "templates").glob("*.yaml")
            assert any(reference in t.read_text() for t in templates), (chart, path)
            functools.reduce(lambda node, part: node[part], parents, values).pop(key, None)
        # A vendored subchart's values are checked against its own values.yaml.
        root = charts_dir() / REFERENCE_CHART[chart]
        subcharts = {
            key: values.pop(key)
            for key in list(values)
            if (root / "charts" / key / "values.yaml").is_file()
        }
        assert unknown_keys(values, chart_values(REFERENCE_CHART[chart])) == [], chart
        for key, sub in subcharts.items():
            # The parent's section of a subchart (its `enabled` switch, say) counts too.
            known = merge(
                chart_values(REFERENCE_CHART[chart]).get(key) or {},
                load(root / "charts" / key / "values.yaml"),
            )
            assert unknown_keys(sub, known) == [], key
        checked += 1
    # dev: GPU Operator, KEDA and its HTTP add-on (models at zero), Prometheus,
    # cluster-autoscaler and CloudNativePG; prod: no HTTP add-on, OpenCost; gcp-dev: the DCGM
    # exporter, KEDA, Prometheus, OpenCost and Weaviate.
    assert checked == {"dev": 6, "prod": 6, "gcp-dev": 5}[stack], "every release is checked"


def test_nfd_values_pass_the_subchart_schema(stacks: RecordedStacks) -> None:
    nfd_dir = charts_dir() / "gpu-operator/charts/node-feature-discovery"
    schema = load(nfd_dir / "values.schema.json")
    defaults = load(nfd_dir / "values.yaml")
    parent = chart_values("gpu-operator")["node-feature-discovery"]
    ours = _release(stacks["dev"], "gpu-operator").inputs["values"]["node-feature-discovery"]
    # The schema is upstream's, so checking it against the metaschema first (as
    # jsonschema.validate does) would only cost time.
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors(merge(merge(defaults, parent), ours))) == []


def test_eks_operator_leaves_driver_and_toolkit_to_the_ami(stacks: RecordedStacks) -> None:
    values = _release(stacks["dev"], "gpu-operator").inputs["values"]
    assert values["driver"] == {"enabled": False}
    assert values["toolkit"] == {"enabled": False}
    assert values["dcgmExporter"]["enabled"] is True
    assert _release(stacks["dev"], "gpu-operator").inputs["repositoryOpts"]["repo"] == (
        "https://helm.ngc.nvidia.com/nvidia"
    )


def test_gke_gets_only_a_dcgm_exporter_reading_gkes_driver(stacks: RecordedStacks) -> None:
    gke = stacks["gcp-dev"]
    assert sorted(r.inputs["chart"] for r in gke.of_type(RELEASE)) == [
        "dcgm-exporter",
        "keda",
        "kube-prometheus-stack",
        "opencost",
        "weaviate",  # the example's vector store
    ]
    values = _release(gke, "dcgm-exporter").inputs["values"]
    assert {"name": "nvidia-install-dir-host", "hostPath": "/home/kubernetes/bin/nvidia"} in values[
        "extraHostVolumes"
    ]
    mounts = {m["name"]: m["mountPath"] for m in values["extraVolumeMounts"]}
    # The chart's own metrics-file mount must survive the override of its list.
    assert mounts == {
        "exporter-metrics-volume": "/etc/dcgm-exporter/default-counters.csv",
        "nvidia-install-dir-host": "/usr/local/nvidia",
    }
    quota = gke.one("kubernetes:core/v1:ResourceQuota", "gcp-dev-gpu-critical-pods").inputs
    assert quota["spec"]["scopeSelector"]["matchExpressions"][0]["values"] == [
        "system-node-critical",
        "system-cluster-critical",
    ]
    assert quota["metadata"]["namespace"] == "dcgm-exporter"


def test_mig_manager_and_strategy_follow_the_pools(stacks: RecordedStacks) -> None:
    dev = _release(stacks["dev"], "gpu-operator").inputs["values"]
    assert dev["migManager"] == {"enabled": False}
    assert _release(stacks["prod"], "gpu-operator").inputs["values"]["migManager"] == {
        "enabled": False
    }
    single = _release(dev_variant()[0], "gpu-operator").inputs["values"]
    assert single["migManager"] == {"enabled": True}
    assert single["mig"] == {"strategy": "single"}
    mixed = _release(prod_variant(), "gpu-operator").inputs["values"]
    assert mixed["mig"] == {"strategy": "mixed"}


def test_time_slicing_config_only_where_a_pool_shares(stacks: RecordedStacks) -> None:
    dev = stacks["dev"]
    config_map = dev.one("kubernetes:core/v1:ConfigMap", "dev-gpu-device-plugin-config").inputs
    assert set(config_map["data"]) == {"default", "l4-batch-spot"}
    shared = yaml.safe_load(config_map["data"]["l4-batch-spot"])
    assert shared["sharing"]["timeSlicing"]["resources"] == [
        {"name": "nvidia.com/gpu", "replicas": 4}
    ]
    assert shared["sharing"]["timeSlicing"]["failRequestsGreaterThanOne"] is True
    values = _release(dev, "gpu-operator").inputs["values"]
    assert values["devicePlugin"]["config"]["name"] == config_map["metadata"]["name"]
    # The pool's nodes select their entry by label.
    group = dev.one("aws:eks/nodeGroup:NodeGroup", "dev-l4-batch-spot-ng")
    assert group.inputs["labels"][labels.DEVICE_PLUGIN_CONFIG_LABEL] == "l4-batch-spot"
    prod = stacks["prod"]
    assert not [
        r for r in prod.of_type("kubernetes:core/v1:ConfigMap") if "device-plugin" in r.name
    ]
    assert "devicePlugin" not in _release(prod, "gpu-operator").inputs["values"]


@pytest.mark.parametrize("stack", ["dev", "gcp-dev"])
def test_prometheus_selects_the_platform_monitors(stacks: RecordedStacks, stack: str) -> None:
    release = _release(stacks[stack], "kube-prometheus-stack")
    spec = release.inputs["values"]["prometheus"]["prometheusSpec"]
    for key in ("serviceMonitorSelector", "podMonitorSelector", "ruleSelector"):
        assert spec[key] == {"matchLabels": labels.PROMETHEUS_SELECTOR}
    # The chart's own monitors (kubelet, node exporter, ...) must match the selector too.
    assert release.inputs["values"]["commonLabels"] == labels.PROMETHEUS_SELECTOR
    assert release.inputs["namespace"] == "observability"
    gpu_chart = "gpu-operator" if stack == "dev" else "dcgm-exporter"
    gpu = _release(stacks[stack], gpu_chart)
    assert release.key in gpu.options["dependsOn"], "monitors need the CRDs first"
    # KEDA's queries go to the service the operator creates for this Prometheus.
    from gpu_platform.serving.autoscaling import PROMETHEUS_URL

    assert PROMETHEUS_URL.startswith("http://prometheus-operated.observability.svc")


def test_dcgm_service_monitors_carry_the_prometheus_selector(stacks: RecordedStacks) -> None:
    eks = _release(stacks["prod"], "gpu-operator").inputs["values"]["dcgmExporter"][
        "serviceMonitor"
    ]
    # Every GPU series names its node as `node`, as kube-prometheus-stack's node alerts do.
    node = {
        "sourceLabels": ["__meta_kubernetes_pod_node_name"],
        "targetLabel": "node",
        "action": "replace",
    }
    expected = {
        "enabled": True,
        "additionalLabels": labels.PROMETHEUS_SELECTOR,
        "relabelings": [node],
    }
    assert eks == expected
    gke = render_dcgm_exporter_values(service_monitor=True)["serviceMonitor"]
    assert gke == expected
    # Without the prometheus-operator CRDs the chart's ServiceMonitor would fail the install.
    assert render_dcgm_exporter_values(service_monitor=False)["serviceMonitor"]["enabled"] is False


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_gpu_agents_tolerate_every_gpu_pool(cloud: str) -> None:
    tolerations = labels.gpu_node_tolerations(cloud)
    for capacity in ("on-demand", "spot"):
        pool = NodePoolSpec.model_validate(
            {"gpu": "l4", "gpusPerNode": 1, "capacity": capacity, "maxNodes": 1}
        )
        for taint in labels.pool_taints(cloud, pool):
            assert any(labels.tolerates(t, taint) for t in tolerations), (cloud, taint)


def test_operands_tolerate_spot_nodes(stacks: RecordedStacks) -> None:
    values = _release(stacks["dev"], "gpu-operator").inputs["values"]
    for tolerations in (
        values["daemonsets"]["tolerations"],
        values["node-feature-discovery"]["worker"]["tolerations"],
    ):
        assert any(labels.tolerates(t, labels.SPOT_TAINT) for t in tolerations)


@pytest.mark.parametrize("stack", ["dev", "gcp-dev"])
def test_addons_use_the_cluster_provider_and_wait_for_nodes(
    stacks: RecordedStacks, stack: str
) -> None:
    recording = stacks[stack]
    (provider,) = recording.of_type("pulumi:providers:kubernetes")
    for r in recording.resources:
        if r.type.startswith("kubernetes:"):
            assert r.provider == provider.key, r.key
    chart = "gpu-operator" if stack == "dev" else "dcgm-exporter"
    gpu = _release(recording, chart)
    # Depending on a component means depending on its resources: the node groups / pools.
    gpu_pools = [
        r.key
        for r in recording.resources
        if r.type in ("aws:eks/nodeGroup:NodeGroup", "gcp:container/nodePool:NodePool")
        and "system" not in r.name
    ]
    assert gpu_pools and set(gpu_pools) <= set(gpu.options["dependsOn"])
    system = (
        "aws:eks/nodeGroup:NodeGroup::dev-cluster-system"
        if stack == "dev"
        else "gcp:container/nodePool:NodePool::gcp-dev-cluster-system"
    )
    for release in recording.of_type(RELEASE):
        assert system in release.options["dependsOn"], release.name


def test_cluster_autoscaler_prefers_reserved_then_spot(stacks: RecordedStacks) -> None:
    prod = stacks["prod"]
    config_map = prod.one("kubernetes:core/v1:ConfigMap", "prod-autoscaler-priorities").inputs
    assert config_map["metadata"] == {
        "name": "cluster-autoscaler-priority-expander",
        "namespace": "kube-system",
    }
    priorities = yaml.safe_load(config_map["data"]["priorities"])
    pools = {
        50: ["h100-reserved"],
        30: ["h100-spot", "l4-batch-spot", "l4-spot"],
        1: ["system"],
    }
    assert {p: len(patterns) for p, patterns in priorities.items()} == {
        p: len(names) for p, names in pools.items()
    }
    # Each pattern matches the Auto Scaling group of its own pool and of no other (l4-spot's
    # must not match l4-batch-spot's), as the groups are named: eks-<prefix><id>-<uuid>.
    groups = {tag.inputs["autoscalingGroupName"] for tag in prod.of_type("aws:autoscaling/tag:Tag")}
    system = prod.one("aws:eks/nodeGroup:NodeGroup", "prod-cluster-system")
    assert system.inputs["nodeGroupNamePrefix"] == "system-"
    groups.add(f"eks-system-{'1' * 26}-0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f")
    for priority, names in pools.items():
        for name, pattern in zip(names, priorities[priority], strict=True):
            matched = {g for g in groups if re.fullmatch(pattern, g)}
            assert len(matched) == 1 and next(iter(matched)).startswith(f"eks-{name}-"), name
    release = _release(prod, "cluster-autoscaler")
    values = release.inputs["values"]
    assert values["autoDiscovery"] == {"clusterName": "gp-prod"}
    assert values["extraArgs"]["expander"] == "priority"
    assert values["extraArgs"]["balance-similar-node-groups"] is True
    assert values["extraArgs"]["skip-nodes-with-local-storage"] is False
    association = prod.one(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "prod-cluster-cluster-autoscaler",
    )
    assert values["rbac"]["serviceAccount"]["name"] == association.inputs["serviceAccount"]
    assert release.inputs["namespace"] == association.inputs["namespace"]
    node_groups = [r.key for r in prod.of_type("aws:eks/nodeGroup:NodeGroup")]
    assert len(node_groups) == 5 and set(node_groups) <= set(release.options["dependsOn"])


def test_gke_autoscales_its_own_pools(stacks: RecordedStacks) -> None:
    charts = {r.inputs["chart"] for r in stacks["gcp-dev"].of_type(RELEASE)}
    assert "cluster-autoscaler" not in charts


def test_gpu_quotas_default_to_what_the_pools_hold(stacks: RecordedStacks) -> None:
    quotas = {
        r.inputs["metadata"]["namespace"]: r.inputs["spec"]["hard"]
        for r in stacks["prod"].of_type("kubernetes:core/v1:ResourceQuota")
    }
    # inference: h100-reserved 2x8 + h100-spot 2x8 + l4 10x1
    assert quotas["inference"] == {"requests.nvidia.com/gpu": "42"}
    assert quotas["batch"] == {"requests.nvidia.com/gpu": "8"}
    assert quotas["data"] == quotas["observability"] == {"requests.nvidia.com/gpu": "0"}
    assert prod_variant_config()["addons"]["gpuQuota"] == {"inference": 24}
    overridden = {
        r.inputs["metadata"]["namespace"]: r.inputs["spec"]["hard"]
        for r in prod_variant().of_type("kubernetes:core/v1:ResourceQuota")
    }
    # The override sets whole GPUs; with two MIG profiles (mixed strategy) each profile's slices
    # keep their default: h100-mig 1 node x 8 GPUs x 7 slices, a100-mig 1 x 8 x 2.
    assert overridden["inference"] == {
        "requests.nvidia.com/gpu": "24",
        "requests.nvidia.com/mig-1g.10gb": "56",
        "requests.nvidia.com/mig-3g.40gb": "16",
    }


def test_namespaces_priorities_and_pod_security(stacks: RecordedStacks) -> None:
    recording = stacks["dev"]
    levels = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"][
            "pod-security.kubernetes.io/enforce"
        ]
        for r in recording.of_type("kubernetes:core/v1:Namespace")
    }
    assert levels == {
        "inference": "restricted",
        "batch": "baseline",
        "data": "baseline",
        "observability": "privileged",
        "gpu-operator": "privileged",
        "keda": "restricted",
        "cnpg-system": "restricted",
    }
    classes = {
        r.inputs["metadata"]["name"]: r.inputs
        for r in recording.of_type("kubernetes:scheduling.k8s.io/v1:PriorityClass")
    }
    assert classes["inference"]["value"] > classes["batch"]["value"]
    assert classes["inference"]["preemptionPolicy"] == "PreemptLowerPriority"
    assert classes["batch"]["preemptionPolicy"] == "Never"


def test_keda_installs_its_crds_and_metrics_server(stacks: RecordedStacks) -> None:
    values = _release(stacks["dev"], "keda").inputs["values"]
    assert values["crds"] == {"install": True}
    assert values["metricsServer"] == {"enabled": True}
    assert set(values["resources"]) == {"operator", "metricServer", "webhooks"}


@pytest.mark.parametrize("stack", ["dev", "prod", "gcp-dev"])
def test_kubernetes_objects_validate_against_their_versions_schemas(
    stacks: RecordedStacks, stack: str
) -> None:
    """Every object the stack renders, built-in or custom, passes the strict schema of the
    Kubernetes version the stack targets (k8s_errors fails on a kind it has no schema for)."""
    validated, problems = recorded_object_errors(stacks[stack].resources, kubernetes_version(stack))
    assert problems == {}
    assert validated >= 20
