"""Grafana and the platform's dashboards: the JSON kept for review is what the program
provisions, every panel's PromQL parses and reads series that exist (the exporter's counters,
vLLM's series, kube-state-metrics', the platform's recording rules), the sidecar loads them,
and Grafana's admin password never appears in values or outputs."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

import promql_parser
import pytest
from harness import ROOT, dev_variant, platform_config, recorded, run_main
from test_alerts import KUBE_STATE_METRICS, PROMETHEUS_BUILTIN
from upstream_checks import UPSTREAM, load, promql_series, vllm_series

from gpu_platform import versions
from gpu_platform.observability import alert_rules, dashboards, dcgm_counters
from gpu_platform.observability.prometheus_values import render_grafana_values
from gpu_platform.observability.spec import ObservabilitySpec
from stacks.config import ConfigError
from tools.mockengine import SECRET

RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize("name", list(dashboards.DASHBOARDS))
def test_the_reviewed_json_is_what_the_program_provisions(name: str) -> None:
    committed = (ROOT / "dashboards" / f"{name}.json").read_text()
    assert committed == dashboards.render(name), "run `make docs` to regenerate dashboards/"
    provisioned = recorded("dev").one(
        "kubernetes:core/v1:ConfigMap", f"dev-prometheus-dashboard-{name}"
    )
    assert provisioned.inputs["data"] == {f"{name}.json": committed}


def _recorded_names() -> set[str]:
    """What the rules record, a model's objectives included."""
    groups = [
        alert_rules.serving_rules.recording_group({"m": (2.0, 1, 2)}, {"m": 300}),
        alert_rules.cost_rules.cost_group({("p", "nvidia_com_gpu"): 1.0}),
    ]
    return {r["record"] for g in groups for r in g["rules"]}


@pytest.mark.parametrize("name", list(dashboards.DASHBOARDS))
def test_every_panel_reads_series_that_exist(name: str) -> None:
    known = (
        dcgm_counters.collected()
        | vllm_series()
        | KUBE_STATE_METRICS
        | PROMETHEUS_BUILTIN
        | {"ALERTS"}
        | _recorded_names()
    )
    expressions = dashboards.queries(name)
    assert len(expressions) >= 5
    for expr in expressions:
        # Grafana replaces $model before Prometheus parses the query.
        series = promql_series(promql_parser.parse(expr.replace("$model", ".*")))
        assert series and set(series) <= known, (expr, set(series) - known)


def test_panels_read_their_data_source_and_dashboards_are_distinct() -> None:
    documents = [json.loads(dashboards.render(n)) for n in dashboards.DASHBOARDS]
    assert len({d["uid"] for d in documents}) == len(documents)
    for document in documents:
        assert document["tags"] == ["gpu-platform"]
        for panel in document["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}
                assert panel["targets"]


def test_grafana_is_the_charts_own_release_with_a_pinned_image_and_builder() -> None:
    chart = load(UPSTREAM / "charts/kube-prometheus-stack/charts/grafana/Chart.yaml")
    assert chart["appVersion"] == versions.GRAFANA_VERSION
    # The builder's releases carry an epoch per Grafana version; this one is "Grafana next",
    # the build for 12 and later.
    assert importlib.metadata.version("grafana-foundation-sdk") == "1769699241"


def test_the_sidecar_loads_the_dashboards_and_the_password_is_a_secret() -> None:
    dev = recorded("dev")
    release = next(r for r in dev.of_type(RELEASE) if r.inputs["chart"] == "kube-prometheus-stack")
    grafana = release.inputs["values"]["grafana"]
    sidecar = grafana["sidecar"]["dashboards"]
    for name in dashboards.DASHBOARDS:
        board = dev.one("kubernetes:core/v1:ConfigMap", f"dev-prometheus-dashboard-{name}").inputs
        assert board["metadata"]["labels"] == {sidecar["label"]: sidecar["labelValue"]}
        assert board["metadata"]["namespace"] == sidecar["searchNamespace"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"
    assert grafana["nodeSelector"] == {"gpuplatform.io/pool": "system"}
    secret = dev.one("kubernetes:core/v1:Secret", "dev-prometheus-grafana-admin")
    assert secret.inputs["stringData"] == SECRET
    assert secret.key in release.options["dependsOn"]
    # Without a config secret the password is generated; with one (the dev variant has it),
    # it is used instead.
    generated = [
        r.name
        for r in dev.of_type("random:index/randomPassword:RandomPassword")
        if "grafana" in r.name
    ]
    assert generated == ["dev-prometheus-grafana-admin-password"]
    variant, _ = dev_variant()
    assert not [
        r
        for r in variant.of_type("random:index/randomPassword:RandomPassword")
        if "grafana" in r.name
    ]


def test_without_grafana_nothing_of_it_is_installed_and_its_password_is_refused() -> None:
    config = platform_config("dev")
    config["observability"] = {"grafana": False}
    key = "gpu-platform:grafanaAdminPassword"
    with pytest.raises(ConfigError) as caught:
        run_main(config, stack="dev", extra_config={key: "x"}, secret_keys=(key,))
    assert caught.value.problems == [
        "gpu-platform:grafanaAdminPassword: set, but observability.grafana is false; remove it "
        "(`pulumi config rm grafanaAdminPassword`)"
    ]
    assert render_grafana_values(ObservabilitySpec(grafana=False)) == {"enabled": False}


def test_the_dashboards_folder_holds_only_generated_dashboards() -> None:
    files = sorted(p.name for p in Path(ROOT / "dashboards").iterdir())
    assert files == sorted(f"{n}.json" for n in dashboards.DASHBOARDS)
    assert all(re.fullmatch(r"[a-z-]+\.json", f) for f in files)
