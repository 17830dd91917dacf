"""The offline plan CLI: exit codes, JSON shape, cost numbers, manifests, findings, secrets."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
import yaml
from conftest import ROOT, platform_config, run_mocked
from typer.testing import CliRunner

from components import catalog
from tools import plan, report, stackfile
from tools.findings import check
from tools.mockengine import Recording, Registration, run_program

runner = CliRunner()
RESOURCE_KEYS = {"type", "name", "parent", "provider", "custom", "inputs", "options"}
OPTION_KEYS = {"protect", "retainOnDelete", "dependsOn", "ignoreChanges"}


def _plan_json(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "plan.json"
    result = runner.invoke(plan.app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_runs_each_stack(tmp_path: Path, stack: str) -> None:
    result = runner.invoke(plan.app, ["--stack", stack, "--json", str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    assert f"gpu-platform stack {stack}" in result.stdout
    assert "estimated monthly cost" in result.stdout
    # Key facts beside resources: instance types, capacity, chart versions, images.
    for fact in ("capacity=SPOT", "chart=gpu-operator  version=v26.7.0", "image=vllm/vllm-openai:"):
        assert fact in result.stdout
    document = json.loads((tmp_path / "p.json").read_text())
    assert set(document) == {"project", "stack", "resources", "outputs", "cost", "findings"}
    assert (document["project"], document["stack"]) == ("gpu-platform", stack)
    assert [f for f in document["findings"] if f["severity"] == "error"] == []
    keys = {f"{r['type']}::{r['name']}" for r in document["resources"]}
    for resource in document["resources"]:
        assert set(resource) == RESOURCE_KEYS
        assert set(resource["options"]) >= OPTION_KEYS
        assert resource["parent"] is None or resource["parent"] in keys
        assert resource["provider"] is None or resource["provider"] in keys
    assert {"currency", "monthlyMin", "monthlyMax", "items"} <= set(document["cost"])


def test_plan_cost_matches_the_catalog(tmp_path: Path) -> None:
    document = _plan_json(tmp_path, "--stack", "prod")
    hours = catalog.PRICES.hours_per_month
    items = {i["name"]: i for i in document["cost"]["items"]}
    pools = platform_config("prod")["nodePools"]
    assert set(items) == {"control-plane", "system-nodes", "nat-gateways", *pools}
    # Pools serving a model keep the nodes its minReplicas need (l4-spot: two).
    pinned = {"l4-spot": 2}
    for name, pool in pools.items():
        item = items[name]
        low = max(pool.get("minNodes", 0), pinned.get(name, 0))
        assert (item["nodesMin"], item["nodesMax"]) == (low, pool["maxNodes"])
        price = catalog.hourly_price(
            "aws", item["machineType"], pool["capacity"], spot_discount=0.6
        )
        assert item["usdPerNodeHour"] == pytest.approx(price.usd)
        assert item["monthlyMax"] == pytest.approx(pool["maxNodes"] * price.usd * hours, abs=0.01)
    total = sum(i["monthlyMax"] for i in items.values())
    assert document["cost"]["monthlyMax"] == pytest.approx(total, abs=0.01)
    assert document["cost"]["currency"] == "USD"


def test_plan_reads_any_stack_file(tmp_path: Path) -> None:
    document = _plan_json(tmp_path, "--stack-file", str(ROOT / "examples" / "gcp-dev.yaml"))
    assert document["stack"] == "gcp-dev"
    providers = [r for r in document["resources"] if r["type"] == "pulumi:providers:gcp"]
    assert providers and providers[0]["inputs"]["project"] == "my-gpu-project"
    prices = {i["name"]: i["machineType"] for i in document["cost"]["items"]}
    assert prices["l4-spot"] == "g2-standard-8"


def _write_stack(tmp_path: Path, platform: object, **extra: object) -> Path:
    path = tmp_path / "Pulumi.bad.yaml"
    config = {"pulumi:disable-default-providers": ["*"], "gpu-platform:platform": platform}
    path.write_text(yaml.safe_dump({"config": {**config, **extra}}))
    return path


def test_bad_config_exits_2_with_key_paths_and_no_traceback(tmp_path: Path) -> None:
    platform = platform_config("dev")
    platform["nodePools"]["l4-spot"]["sharing"] = {"mode": "mig", "migProfile": "1g.10gb"}
    platform["cluster"]["name"] = "Bad"
    path = _write_stack(tmp_path, platform)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-m", "tools.plan", "--stack-file", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "nodePools.l4-spot.sharing.migProfile: L4 GPUs do not support MIG" in result.stderr
    assert "cluster.name:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("config: [not, a, map]\n", "expected a top-level `config:` map"),
        ("config:\n  other:key: 1\n", "missing gpu-platform:platform"),
        ("config: {a: [}\n", "is not valid YAML"),
    ],
)
def test_unreadable_stack_files_exit_2(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    if content is not None:
        path.write_text(content)
    result = runner.invoke(plan.app, ["--stack-file", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr


def test_unexpected_failure_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("mock engine exploded")

    monkeypatch.setattr(plan, "run_program", broken)
    result = runner.invoke(plan.app, ["--stack", "dev"])
    assert result.exit_code == 1
    assert "mock engine exploded" in result.stderr


def test_secure_values_become_placeholder_secrets(tmp_path: Path) -> None:
    path = _write_stack(
        tmp_path, platform_config("dev"), **{"gpu-platform:hfToken": {"secure": "v1:abc"}}
    )
    parsed = stackfile.read(path, "gpu-platform")
    assert parsed.secret_keys == ("gpu-platform:hfToken",)
    assert parsed.config["gpu-platform:hfToken"] == stackfile.OFFLINE_SECRET

    def program() -> None:
        token = pulumi.Config("gpu-platform").require_secret("hfToken")
        pulumi.export("token", token)
        pulumi.export("plain", token.apply(len))

    recording = run_program(
        program,
        project="gpu-platform",
        stack="x",
        config=parsed.config,
        secret_keys=parsed.secret_keys,
    )
    assert recording.outputs["token"] == "[secret]"
    assert recording.outputs["plain"] == "[secret]", "values derived from a secret stay secret"


def _reg(type_: str, name: str, inputs: dict, **kwargs) -> Registration:
    defaults = {"parent": None, "provider": "pulumi:providers:kubernetes::k8s", "custom": True}
    options = {"protect": False, "dependsOn": []}
    return Registration(type_, name, inputs=inputs, options=options, **{**defaults, **kwargs})


def test_manifests_of_a_real_stack(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    result = runner.invoke(plan.app, ["--stack", "dev", "--quiet", "--manifests", str(out)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    for expected in (
        "statefulset-inference-vllm-llama-8b.yaml",
        "scaledobject-inference-vllm-llama-8b.yaml",
        "namespace-inference.yaml",
        "gpu-operator.values.yaml",
        "kube-prometheus-stack.values.yaml",
    ):
        assert expected in names
    server = yaml.safe_load((out / "statefulset-inference-vllm-llama-8b.yaml").read_text())
    assert list(server)[:3] == ["apiVersion", "kind", "metadata"]
    assert server["kind"] == "StatefulSet"


def test_manifests_are_written_per_object_and_release(tmp_path: Path) -> None:
    recording = Recording(
        resources=[
            _reg(
                "kubernetes:core/v1:ConfigMap",
                "cm",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "tuning", "namespace": "inference"},
                    "data": {"a": "b"},
                },
            ),
            _reg(
                report.HELM_RELEASE,
                "keda",
                {
                    "name": "keda",
                    "chart": "keda",
                    "version": "2.20.2",
                    "namespace": "keda",
                    "repositoryOpts": {"repo": "https://kedacore.github.io/charts"},
                    "values": {"resources": {"operator": {"limits": {"cpu": "1"}}}},
                },
            ),
            _reg("aws:s3/bucket:Bucket", "ignored", {"bucket": "x"}, provider=None),
        ]
    )
    written = report.write_manifests(recording, tmp_path / "out")
    assert sorted(p.name for p in written) == [
        "configmap-inference-tuning.yaml",
        "keda.values.yaml",
    ]
    manifest = yaml.safe_load((tmp_path / "out" / "configmap-inference-tuning.yaml").read_text())
    assert manifest["data"] == {"a": "b"}
    values = (tmp_path / "out" / "keda.values.yaml").read_text()
    assert "# chart: keda\n# repo: https://kedacore.github.io/charts\n# version: 2.20.2\n" in values
    assert yaml.safe_load(values) == {"resources": {"operator": {"limits": {"cpu": "1"}}}}


def test_findings_catch_implicit_providers_and_unpinned_images() -> None:
    resources = [
        _reg("aws:s3/bucket:Bucket", "b", {}, provider=None),
        _reg("kubernetes:apps/v1:Deployment", "d", {"spec": {"image": "vllm/vllm-openai:latest"}}),
        _reg("kubernetes:apps/v1:Deployment", "e", {"spec": {"image": "vllm/vllm-openai"}}),
        _reg("kubernetes:apps/v1:Deployment", "f", {"spec": {"image": "vllm/vllm-openai:v0.21.0"}}),
        _reg("kubernetes:apps/v1:Deployment", "g", {"image": "ghcr.io/x/y@sha256:" + "a" * 64}),
        _reg("pulumi:providers:aws", "p", {}, provider=None),
    ]
    found = check(resources, {})
    assert sorted((f.rule, f.resource) for f in found) == [
        ("default-providers-disabled", None),
        ("explicit-provider", "aws:s3/bucket:Bucket::b"),
        ("pinned-images", "kubernetes:apps/v1:Deployment::d"),
        ("pinned-images", "kubernetes:apps/v1:Deployment::e"),
    ]


def test_hub_models_without_a_token_are_flagged() -> None:
    def deployment(env: list[str]) -> Registration:
        container = {"name": "vllm", "env": [{"name": n, "value": "x"} for n in env]}
        spec = {"template": {"spec": {"containers": [container]}}}
        return _reg("kubernetes:apps/v1:Deployment", "d", {"spec": spec})

    config = {"pulumi:disable-default-providers": ["*"]}
    (finding,) = check([deployment(["HF_HOME"])], config)
    assert finding.rule == "hf-token" and "pulumi config set --secret hfToken" in finding.message
    assert check([deployment(["HF_HOME", "HF_TOKEN"])], config) == []


def test_eks_support_finding_follows_the_calendar() -> None:
    cluster = _reg("aws:eks/cluster:Cluster", "c", {"version": "1.33"}, provider="p::p")
    config = {"pulumi:disable-default-providers": ["*"]}
    assert check([cluster], config, today=datetime.date(2026, 7, 1)) == []
    (finding,) = check([cluster], config, today=datetime.date(2026, 11, 23))
    assert finding.rule == "eks-standard-support" and finding.severity == "warning"
    assert "2026-07-29" in finding.message


def test_recorder_keeps_resource_options() -> None:
    def program() -> None:
        import pulumi_aws as aws

        provider = aws.Provider("p", region="us-east-1")
        first = aws.cloudwatch.LogGroup("first", opts=pulumi.ResourceOptions(provider=provider))
        aws.cloudwatch.LogGroup(
            "second",
            opts=pulumi.ResourceOptions(
                provider=provider,
                protect=True,
                retain_on_delete=True,
                ignore_changes=["tags"],
                depends_on=[first],
            ),
        )

    recording = run_mocked(program)
    second = recording.one("aws:cloudwatch/logGroup:LogGroup", "second")
    assert second.provider == "pulumi:providers:aws::p"
    assert second.options["protect"] is True
    assert second.options["retainOnDelete"] is True
    assert second.options["ignoreChanges"] == ["tags"]
    assert second.options["dependsOn"] == ["aws:cloudwatch/logGroup:LogGroup::first"]
    first = recording.one("aws:cloudwatch/logGroup:LogGroup", "first")
    assert first.options["protect"] is False and first.options["dependsOn"] == []
