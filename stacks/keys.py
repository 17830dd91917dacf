"""The stack's config key names: the project namespace, the platform config key and the secret
keys (`pulumi config set --secret <key>`)."""

PROJECT = "gpu-platform"
CONFIG_KEY = "platform"
HF_TOKEN_KEY = "hfToken"
WEAVIATE_API_KEY = "weaviateApiKey"
PAGERDUTY_ROUTING_KEY = "pagerdutyRoutingKey"
SLACK_WEBHOOK_URL = "slackWebhookUrl"
GRAFANA_ADMIN_PASSWORD = "grafanaAdminPassword"
