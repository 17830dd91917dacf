"""What the Helm releases install, not only what the program writes by hand: each vendored chart
at its pinned version is rendered with the values each shipped stack gives it, by Helm's own
template engine, and every object it renders is checked like the platform's own (the targeted
Kubernetes version's schemas, or the CRDs that define it) and against its namespace's Pod
Security level."""

from __future__ import annotations

import functools
import json

import pod_security
import pytest
from harness import kubernetes_version, recorded
from upstream_checks import charts_dir, k8s_errors, load, packaged, render_chart

from gpu_platform import labels, versions
from gpu_platform.addons.platform_base import PSA
from policy import rules
from policy.images import images
from policy.model import Resource, Stack
from tools.mockengine import Recording

RELEASE = "kubernetes:helm.sh/v3:Release"
STACKS = ("dev", "prod", "gcp-dev")
# The workloads that need more than the baseline Pod Security level, and why: each is in a
# `privileged` namespace for that reason and no other workload is.
PRIVILEGED = {
    ("gpu-operator", "gpu-operator-node-feature-discovery-worker"): "reads /boot, /sys and "
    "os-release of the host to label GPU nodes",
    ("observability", "kube-prometheus-stack-prometheus-node-exporter"): "host network, PID "
    "namespace and /proc for node metrics",
    ("dcgm-exporter", "dcgm-exporter"): "privileged access to the GPUs and the host's driver",
}


def _namespace_levels(recording: Recording) -> dict[str, str]:
    """Pod Security enforce level of each namespace the platform creates."""
    return {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"][f"{PSA}/enforce"]
        for r in recording.of_type("kubernetes:core/v1:Namespace")
        if f"{PSA}/enforce" in (r.inputs["metadata"].get("labels") or {})
    }


@functools.cache
def _render(chart: str, values: str, name: str, namespace: str) -> tuple[dict, ...]:
    """Renders once per distinct release: stacks often give a chart the same values."""
    return tuple(render_chart(chart, json.loads(values), name, namespace))


@functools.cache
def _schema_errors(manifest: str, version: str) -> tuple[str, ...]:
    """Each distinct object is checked once (a chart's CRDs are large and the same everywhere)."""
    return tuple(k8s_errors(json.loads(manifest), version))


def rendered(stack: str) -> tuple[tuple[str, str, tuple[dict, ...]], ...]:
    """(chart, namespace, objects) of every Helm release of a shipped stack."""
    return tuple(
        (
            r.inputs["chart"],
            r.inputs["namespace"],
            _render(
                r.inputs["chart"],
                json.dumps(r.inputs["values"], sort_keys=True),
                r.inputs["name"],
                r.inputs["namespace"],
            ),
        )
        for r in recorded(stack).of_type(RELEASE)
    )


@pytest.mark.parametrize("stack", STACKS)
def test_every_chart_renders_and_every_object_passes_its_schema(stack: str) -> None:
    version = kubernetes_version(stack)
    releases = rendered(stack)
    assert len(releases) == len(recorded(stack).of_type(RELEASE)) >= 3
    for chart, _, objects in releases:
        assert objects, chart
        for manifest in objects:
            where = f"{chart}: {manifest['kind']} {manifest['metadata'].get('name')}"
            assert _schema_errors(json.dumps(manifest, sort_keys=True), version) == (), where


@pytest.mark.parametrize("stack", STACKS)
def test_workloads_meet_their_namespaces_pod_security_level(stack: str) -> None:
    levels = _namespace_levels(recorded(stack))
    needing_privileged = set()
    for chart, namespace, objects in rendered(stack):
        for manifest in objects:
            spec = pod_security.pod_spec(manifest)
            if spec is None:
                continue
            name = manifest["metadata"]["name"]
            if pod_security.baseline_violations(spec):
                needing_privileged.add((namespace, name))
            level = levels.get(namespace)
            if level is not None:  # kube-system is not the platform's to label
                assert pod_security.violations(spec, level) == [], (chart, namespace, name)
    assert needing_privileged <= set(PRIVILEGED), "only the workloads that need it"
    privileged_namespaces = {ns for ns, level in levels.items() if level == "privileged"}
    assert privileged_namespaces <= {ns for ns, _ in needing_privileged}, (
        "a namespace is privileged only for a workload that needs it"
    )


def test_the_pod_security_check_catches_what_admission_would_refuse() -> None:
    spec = {"containers": [{"name": "c", "securityContext": {"privileged": True}}]}
    assert pod_security.violations(spec, "baseline") == ["c: privileged"]
    assert pod_security.violations({"hostPID": True, "containers": []}, "baseline") == ["hostPID"]
    loose = {"containers": [{"name": "c"}]}
    assert pod_security.violations(loose, "baseline") == []
    assert "c: runAsNonRoot not true" in pod_security.violations(loose, "restricted")
    assert pod_security.violations(loose, "privileged") == []


def test_a_values_change_that_breaks_a_template_fails() -> None:
    with pytest.raises(Exception, match="resources"):
        render_chart("keda", {"resources": "oops"}, "keda", "keda")


DEV = Stack(production=False)


@pytest.mark.parametrize("stack", STACKS)
def test_every_image_the_charts_install_is_pinned(stack: str) -> None:
    """The policy's own pinned-images rule, over what the charts render: no `latest`, no bare
    repository."""
    installed = [
        Resource(
            f"kubernetes:{manifest['apiVersion']}:{manifest['kind']}",
            f"{chart}/{manifest['metadata'].get('name')}",
            manifest,
        )
        for chart, _, objects in rendered(stack)
        for manifest in objects
    ]
    found = [image for r in installed for _, image in images(r.inputs)]
    assert len(found) >= 5
    assert [m for r in installed for m in rules.pinned_images(r, DEV)] == []


def test_the_image_scan_reads_the_split_form_and_skips_disabled_components() -> None:
    def scan(spec: dict) -> list[str]:
        resource = Resource("kubernetes:nvidia.com/v1:ClusterPolicy", "p", spec)
        return [m.split(" = ")[1].split(" ")[0] for m in rules.pinned_images(resource, DEV)]

    assert (
        scan({"dcgm": {"repository": "nvcr.io/nvidia", "image": "dcgm", "version": "4.4.1"}}) == []
    )
    assert scan(
        {"dcgm": {"repository": "nvcr.io/nvidia", "image": "dcgm", "version": "latest"}}
    ) == ["'nvcr.io/nvidia/dcgm:latest'"]
    assert scan({"vgpu": {"enabled": False, "image": "vgpu-manager", "version": ""}}) == []
    assert scan({"vgpu": {"enabled": True, "image": "vgpu-manager", "version": ""}}) == [
        "'vgpu-manager:'"
    ]
    # Prometheus' own resource names the full reference and repeats the version beside it.
    assert scan({"image": "quay.io/prometheus/prometheus:v3.14.0", "version": "v3.14.0"}) == []
    assert scan({"image": "r/x", "version": "sha256:" + "a" * 64}) == []
    # The values form: a tag or digest beside the chart's repository.
    assert scan({"image": {"tag": "v1.36.1"}}) == []
    assert scan({"image": {"repository": "x/y", "tag": "latest"}}) == ["'x/y:latest'"]
    assert scan({"image": {"registry": "r.io", "repository": "y", "tag": ""}}) == ["'r.io/y:'"]
    assert scan({"image": {"repository": "y", "tag": "", "digest": "sha256:" + "b" * 64}}) == []


def test_the_gpu_operator_chart_renders_as_nvidia_publishes_it() -> None:
    """The repository's Chart.yaml says v1.0.0-devel / main-latest; the release job stamps the
    tag, which is the version the platform installs."""
    chart = load(packaged("gpu-operator") / "Chart.yaml")
    assert chart["version"] == chart["appVersion"] == versions.GPU_OPERATOR_CHART[1]
    assert load(charts_dir() / "gpu-operator" / "Chart.yaml")["appVersion"] == "main-latest"


MONITOR_KINDS = ("ServiceMonitor", "PodMonitor", "PrometheusRule")


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_selects_every_monitor_and_rule_the_stack_installs(stack: str) -> None:
    """The stack's Prometheus selects monitors and rules by one label (labels.PROMETHEUS_SELECTOR):
    every one the program creates or a chart renders carries it, so none is left unscraped."""
    values = next(
        r.inputs["values"]
        for r in recorded(stack).of_type(RELEASE)
        if r.inputs["chart"] == "kube-prometheus-stack"
    )["prometheus"]["prometheusSpec"]
    for key in ("serviceMonitorSelector", "podMonitorSelector", "ruleSelector"):
        assert values[key] == {"matchLabels": labels.PROMETHEUS_SELECTOR}
    assert values["serviceMonitorNamespaceSelector"] == values["podMonitorNamespaceSelector"] == {}
    found = [
        (r.key, r.inputs["metadata"].get("labels") or {})
        for r in recorded(stack).resources
        if r.inputs.get("kind") in MONITOR_KINDS
    ]
    found += [
        (f"{chart}: {m['kind']} {m['metadata']['name']}", m["metadata"].get("labels") or {})
        for chart, _, objects in rendered(stack)
        for m in objects
        if m["kind"] in MONITOR_KINDS
    ]
    assert len(found) >= 4
    unselected = [
        key
        for key, found_labels in found
        if not labels.PROMETHEUS_SELECTOR.items() <= found_labels.items()
    ]
    assert unselected == []
