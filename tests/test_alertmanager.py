"""Alertmanager: its configuration checked and its routing tree walked by Alertmanager's own
`amtool` (Debian's prometheus-alertmanager package; the Makefile installs it), credentials
only ever in a Secret it reads from files, and the config rules for receivers and their
secrets."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import planned, platform_config, recorded, run_main
from upstream_checks import prometheus_tool

from gpu_platform.observability import alertmanager
from gpu_platform.observability.spec import AlertsSpec
from stacks.config import ConfigError, parse
from tools.mockengine import SECRET

BOTH = AlertsSpec(pagerduty=True, slack={"channel": "#gpu-platform"})
SLACK = AlertsSpec(slack={"channel": "#gpu-platform"})
PAGERDUTY = AlertsSpec(pagerduty=True)


def _amtool(config: dict[str, Any], *arguments: str) -> subprocess.CompletedProcess:
    amtool = prometheus_tool("amtool")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "alertmanager.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        command = [amtool, *arguments]
        command += [str(path)] if arguments[0] == "check-config" else [f"--config.file={path}"]
        return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("alerts", [BOTH, SLACK, PAGERDUTY], ids=["both", "slack", "pagerduty"])
def test_amtool_accepts_the_configuration(alerts: AlertsSpec) -> None:
    checked = _amtool(alertmanager.render_config(alerts), "check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    assert "2 inhibit rules" in checked.stdout


def _receivers(alerts: AlertsSpec, *labels: str) -> str:
    """Where Alertmanager sends an alert with these labels (`amtool config routes test`)."""
    routed = _amtool(alertmanager.render_config(alerts), "config", "routes", "test", *labels)
    assert routed.returncode == 0, routed.stdout + routed.stderr
    return routed.stdout.strip().splitlines()[0]


@pytest.mark.parametrize(
    ("alerts", "severity", "expected"),
    [
        (BOTH, "critical", "pagerduty,slack"),
        (BOTH, "warning", "slack"),
        (BOTH, "info", "slack"),
        (SLACK, "critical", "slack"),
        (PAGERDUTY, "critical", "pagerduty"),
        # Without a channel, only what pages is sent anywhere.
        (PAGERDUTY, "warning", "null"),
    ],
)
def test_each_severity_reaches_its_receivers(
    alerts: AlertsSpec, severity: str, expected: str
) -> None:
    assert _receivers(alerts, "alertname=GPUMissing", f"severity={severity}") == expected


def test_kube_prometheus_stacks_heartbeat_pages_nobody() -> None:
    assert _receivers(BOTH, "alertname=Watchdog", "severity=none") == "null"
    assert _receivers(BOTH, "alertname=InfoInhibitor", "severity=none") == "null"


def test_credentials_are_files_of_a_mounted_secret_never_config() -> None:
    config = yaml.safe_dump(alertmanager.render_config(BOTH))
    assert "routing_key_file: /etc/alertmanager/secrets/alertmanager-receivers/" in config
    assert "api_url_file: /etc/alertmanager/secrets/alertmanager-receivers/" in config
    assert "routing_key:" not in config and "api_url:" not in config


def test_a_broken_or_down_node_holds_back_its_other_alerts() -> None:
    broken, down = alertmanager.render_config(BOTH)["inhibit_rules"]
    assert broken["equal"] == ["node"]
    assert broken["target_matchers"] == ['severity=~"warning|info"']
    # kube-prometheus-stack's node alerts name the node as `node`; every GPU series is
    # relabelled to carry it too (gpu_platform/addons/gpu_operator.py NODE_RELABELING), and the
    # GPU alerts keep it.
    assert down["equal"] == ["node"]
    assert down["source_matchers"] == ['alertname=~"KubeNodeNotReady|KubeNodeUnreachable"']


# --- the stacks ----------------------------------------------------------------------------


def _values(stack: str) -> dict[str, Any]:
    release = next(
        r
        for r in recorded(stack).of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "kube-prometheus-stack"
    )
    return release.inputs["values"]["alertmanager"]


def test_dev_runs_no_alertmanager_and_prod_routes_to_its_receivers() -> None:
    assert _values("dev") == {"enabled": False}
    # dev's Prometheus is the smaller one.
    memory = {
        stack: next(
            r
            for r in recorded(stack).of_type("kubernetes:helm.sh/v3:Release")
            if r.inputs["chart"] == "kube-prometheus-stack"
        ).inputs["values"]["prometheus"]["prometheusSpec"]["resources"]["limits"]["memory"]
        for stack in ("dev", "prod")
    }
    assert memory == {"dev": "2Gi", "prod": "4Gi"}
    # dev keeps three days on a small volume; prod the default fortnight on 50 GiB.
    spec = {
        stack: next(
            r
            for r in recorded(stack).of_type("kubernetes:helm.sh/v3:Release")
            if r.inputs["chart"] == "kube-prometheus-stack"
        ).inputs["values"]["prometheus"]["prometheusSpec"]
        for stack in ("dev", "prod")
    }
    assert [spec[s]["retention"] for s in ("dev", "prod")] == ["3d", "15d"]
    claims = [
        spec[s]["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"]
        for s in ("dev", "prod")
    ]
    assert claims == ["10Gi", "50Gi"]
    prod = _values("prod")
    assert prod["enabled"] is True
    assert prod["config"] == alertmanager.render_config(BOTH)
    spec = prod["alertmanagerSpec"]
    assert spec["secrets"] == [alertmanager.SECRET]
    assert spec["replicas"] == 2
    assert spec["nodeSelector"] == {"gpuplatform.io/pool": "system"}
    assert spec["storage"]["volumeClaimTemplate"]["spec"]["resources"] == {
        "requests": {"storage": "2Gi"}
    }
    secret = recorded("prod").one("kubernetes:core/v1:Secret", "prod-prometheus-alert-receivers")
    assert secret.inputs["metadata"] == {
        "name": "alertmanager-receivers",
        "namespace": "observability",
    }
    assert secret.inputs["stringData"] == SECRET
    release = recorded("prod").one("kubernetes:helm.sh/v3:Release", "prod-prometheus-release")
    assert secret.key in release.options["dependsOn"]


def test_a_configured_receiver_needs_its_secret_and_a_secret_needs_its_receiver() -> None:
    config = platform_config("prod")
    with pytest.raises(ConfigError) as caught:
        run_main(config, stack="prod", receiver_secrets=False)
    assert caught.value.problems == [
        "gpu-platform:pagerdutyRoutingKey: observability.alerts uses it and it is not set; "
        "`pulumi config set --secret pagerdutyRoutingKey <value>`",
        "gpu-platform:slackWebhookUrl: observability.alerts uses it and it is not set; "
        "`pulumi config set --secret slackWebhookUrl <value>`",
    ]
    key = "gpu-platform:slackWebhookUrl"
    with pytest.raises(ConfigError) as caught:
        run_main(platform_config("dev"), stack="dev", extra_config={key: "x"}, secret_keys=(key,))
    assert caught.value.problems == [
        "gpu-platform:slackWebhookUrl: set, but its receiver is not configured in "
        "observability.alerts; remove it (`pulumi config rm slackWebhookUrl`) or configure it"
    ]


def test_bad_receiver_settings_name_their_key() -> None:
    config = platform_config("dev")
    config["observability"] = {"alerts": {"slack": {"channel": "gpu-platform"}}}
    with pytest.raises(ConfigError) as caught:
        parse(config)
    assert caught.value.problems[0].startswith(
        "observability.alerts.slack.channel: a Slack channel such as #gpu-platform"
    )


def test_the_offline_plan_stands_in_for_missing_receiver_secrets_and_says_so() -> None:
    plan = planned("prod")
    missing = [f for f in plan.findings if f.rule == "missing-secret"]
    assert [(f.severity, f.message.split(":")[1]) for f in missing] == [
        ("warning", "pagerdutyRoutingKey"),
        ("warning", "slackWebhookUrl"),
    ]
    assert _values("prod")["enabled"] is True
