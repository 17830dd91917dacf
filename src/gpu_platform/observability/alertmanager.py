"""Alertmanager's configuration (pure data): who hears which alert, grouped so one incident is
one notification, with the noise of a node that is already known to be broken held back.

- critical alerts page through PagerDuty (when configured) and post to Slack;
- warning alerts post to Slack; info alerts post to Slack once a day;
- the always-firing Watchdog and InfoInhibitor alerts of kube-prometheus-stack go nowhere.

Credentials never appear in the configuration: Alertmanager reads them from files of a Secret
the platform creates (`routing_key_file`, `api_url_file`), which the Alertmanager pods mount at
/etc/alertmanager/secrets/<secret>/.
"""

from __future__ import annotations

from typing import Any

from gpu_platform.observability.spec import AlertsSpec

SECRET = "alertmanager-receivers"
MOUNT = f"/etc/alertmanager/secrets/{SECRET}"
PAGERDUTY_KEY = "pagerduty-routing-key"
SLACK_KEY = "slack-webhook-url"
# Alerts that say a node's GPUs are gone or broken: the node's other alerts add nothing.
NODE_BROKEN = ("GPUMissing", "GPURowRemapFailed", "GPUHardwareXid")
# kube-prometheus-stack's alerts for a node that is down (they carry its name as `node`).
NODE_DOWN = ("KubeNodeNotReady", "KubeNodeUnreachable")

_SLACK_TITLE = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}"
_SLACK_TEXT = (
    "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n{{ end }}"
)


def enabled(alerts: AlertsSpec) -> bool:
    return alerts.pagerduty or alerts.slack is not None


def render_config(alerts: AlertsSpec) -> dict[str, Any]:
    """The whole alertmanager.yaml (the chart's own default is replaced, not merged into)."""
    receivers: list[dict[str, Any]] = [{"name": "null"}]
    routes: list[dict[str, Any]] = [
        {"matchers": ['alertname=~"Watchdog|InfoInhibitor"'], "receiver": "null"}
    ]
    if alerts.pagerduty:
        receivers.append(
            {
                "name": "pagerduty",
                "pagerduty_configs": [
                    {"routing_key_file": f"{MOUNT}/{PAGERDUTY_KEY}", "send_resolved": True}
                ],
            }
        )
        routes.append(
            {
                "matchers": ['severity="critical"'],
                "receiver": "pagerduty",
                # Critical alerts reach Slack too.
                "continue": alerts.slack is not None,
            }
        )
    if alerts.slack is not None:
        receivers.append(
            {
                "name": "slack",
                "slack_configs": [
                    {
                        "api_url_file": f"{MOUNT}/{SLACK_KEY}",
                        "channel": alerts.slack.channel,
                        "send_resolved": True,
                        "title": _SLACK_TITLE,
                        "text": _SLACK_TEXT,
                    }
                ],
            }
        )
        routes += [
            {"matchers": ['severity=~"critical|warning"'], "receiver": "slack"},
            {"matchers": ['severity="info"'], "receiver": "slack", "repeat_interval": "24h"},
        ]
    return {
        "route": {
            "receiver": "null",
            "group_by": ["alertname", "namespace", "model_name", "node"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "receivers": receivers,
        "inhibit_rules": [
            {
                "source_matchers": [f'alertname=~"{"|".join(NODE_BROKEN)}"'],
                "target_matchers": ['severity=~"warning|info"'],
                "equal": ["node"],
            },
            {
                "source_matchers": [f'alertname=~"{"|".join(NODE_DOWN)}"'],
                "target_matchers": ['alertname=~"GPU.*|DCGMExporterDown"'],
                "equal": ["node"],
            },
        ],
        "templates": [],
    }


def secret_keys(alerts: AlertsSpec) -> dict[str, str]:
    """The Secret's keys, by the config secret each holds."""
    found = {}
    if alerts.pagerduty:
        found["pagerdutyRoutingKey"] = PAGERDUTY_KEY
    if alerts.slack is not None:
        found["slackWebhookUrl"] = SLACK_KEY
    return found
