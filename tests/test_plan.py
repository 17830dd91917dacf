"""The offline plan CLI: exit codes, JSON shape, cost numbers, manifests, findings, secrets."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pulumi
import pytest
import yaml
from harness import (
    GATED_SOURCE,
    ROOT,
    STACK_FILES,
    gcp_production,
    gcp_production_config,
    kubernetes_version,
    planned,
    platform_config,
    recorded,
    run_main,
    run_mocked,
)
from typer.testing import CliRunner

from gpu_platform import catalog, k8s_versions
from gpu_platform.serving import hub
from stacks.config import ConfigError
from tools import plan, replay, report, stackfile
from tools.findings import check
from tools.mockengine import Recording, Registration, run_program

runner = CliRunner()
RESOURCE_KEYS = {"type", "name", "parent", "provider", "custom", "inputs", "options", "secrets"}
OPTION_KEYS = {"protect", "retainOnDelete", "dependsOn", "ignoreChanges"}


@dataclass(frozen=True)
class CliPlan:
    """One run of the plan CLI: what it printed and the JSON and manifests it wrote."""

    stdout: str
    json_bytes: bytes
    manifests: dict[str, bytes]

    @property
    def document(self) -> dict:
        return json.loads(self.json_bytes)


def _run_cli(directory: Path, *args: str) -> CliPlan:
    out, manifests = directory / "plan.json", directory / "manifests"
    result = runner.invoke(plan.app, [*args, "--json", str(out), "--manifests", str(manifests)])
    assert result.exit_code == 0, result.output
    files = {p.name: p.read_bytes() for p in sorted(manifests.iterdir())}
    return CliPlan(result.stdout, out.read_bytes(), files)


class _CliPlans(dict[str, CliPlan]):
    """What the CLI prints and writes for a shipped stack, made on first use. The program run
    behind it is the session's shared one (`planned`);
    test_plan_output_is_byte_identical_across_runs runs the CLI end to end and compares."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory):
        super().__init__()
        self._tmp = tmp_path_factory

    def __missing__(self, stack: str) -> CliPlan:
        shared = planned(stack)
        with mock.patch.object(plan, "build_plan", return_value=shared):
            self[stack] = _run_cli(self._tmp.mktemp(stack), "--stack-file", str(STACK_FILES[stack]))
        return self[stack]


@pytest.fixture(scope="session")
def cli_plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliPlan]:
    return _CliPlans(tmp_path_factory)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_runs_each_stack(cli_plans: dict[str, CliPlan], stack: str) -> None:
    result = cli_plans[stack]
    assert f"gpu-platform stack {stack}" in result.stdout
    assert "estimated monthly cost" in result.stdout
    # Key facts beside resources: instance types, capacity, chart versions, images.
    for fact in ("capacity=SPOT", "chart=gpu-operator  version=v26.7.0", "image=vllm/vllm-openai:"):
        assert fact in result.stdout
    document = result.document
    assert set(document) == {
        "coldStarts",
        "scaleToZero",
        "project",
        "stack",
        "resources",
        "outputs",
        "cost",
        "quotas",
        "findings",
    }
    assert "cloud quotas the GPU pools draw on in us-east-1" in result.stdout
    assert document["quotas"]["region"] == "us-east-1"
    assert {q["quota"] for q in document["quotas"]["needs"]} >= {
        "All G and VT Spot Instance Requests"
    }
    assert (document["project"], document["stack"]) == ("gpu-platform", stack)
    assert [f for f in document["findings"] if f["severity"] == "error"] == []
    keys = {f"{r['type']}::{r['name']}" for r in document["resources"]}
    for resource in document["resources"]:
        assert set(resource) == RESOURCE_KEYS
        assert set(resource["options"]) >= OPTION_KEYS
        assert resource["parent"] is None or resource["parent"] in keys
        assert resource["provider"] is None or resource["provider"] in keys
    assert {"currency", "monthlyMin", "monthlyMax", "items"} <= set(document["cost"])


def test_plan_cost_matches_the_catalog(cli_plans: dict[str, CliPlan]) -> None:
    document = cli_plans["prod"].document
    hours = catalog.PRICES.hours_per_month
    items = {i["name"]: i for i in document["cost"]["items"]}
    pools = platform_config("prod")["nodePools"]
    stores = {"vector-store-volumes", "vector-store-backups", "model-weights"}
    assert set(items) == {"control-plane", "system-nodes", "nat-gateways", *pools, *stores}
    # Pools serving a model keep the nodes its minReplicas need (l4-spot: qwen-7b's two and
    # bge-m3's two).
    pinned = {"l4-spot": 4}
    for name, pool in pools.items():
        item = items[name]
        low = max(pool.get("minNodes", 0), pinned.get(name, 0))
        assert (item["nodesMin"], item["nodesMax"]) == (low, pool["maxNodes"])
        price = catalog.hourly_price(
            "aws", item["machineType"], pool["capacity"], spot_discount=0.6
        )
        assert item["usdPerNodeHour"] == pytest.approx(price.usd)
        assert item["monthlyMax"] == pytest.approx(pool["maxNodes"] * price.usd * hours, abs=0.01)
    # Three 100 GiB gp3 volumes, and one full copy of the data in S3.
    volumes, backups = items["vector-store-volumes"], items["vector-store-backups"]
    assert (volumes["nodesMin"], volumes["monthlyMin"]) == (3, pytest.approx(3 * 100 * 0.08))
    assert backups["monthlyMax"] == pytest.approx(100 * 0.023)
    # Each standby on its own system node: the estimate keeps three running.
    assert items["system-nodes"]["nodesMin"] == 3
    total = sum(i["monthlyMax"] for i in items.values())
    assert document["cost"]["monthlyMax"] == pytest.approx(total, abs=0.01)
    assert document["cost"]["currency"] == "USD"


def test_plan_reads_any_stack_file_such_as_the_gcp_example(cli_plans: dict[str, CliPlan]) -> None:
    document = cli_plans["gcp-dev"].document
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
    assert parsed.config["gpu-platform:hfToken"].startswith(stackfile.OFFLINE_SECRET)
    # Another ciphertext (a rotated secret) is another stand-in.
    rotated = _write_stack(
        tmp_path, platform_config("dev"), **{"gpu-platform:hfToken": {"secure": "v1:abd"}}
    )
    assert (
        stackfile.read(rotated, "gpu-platform").config["gpu-platform:hfToken"]
        != parsed.config["gpu-platform:hfToken"]
    )

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


def test_manifests_of_a_real_stack(cli_plans: dict[str, CliPlan]) -> None:
    files = cli_plans["dev"].manifests
    names = set(files)
    for expected in (
        "statefulset-inference-vllm-qwen-7b.yaml",
        "scaledobject-inference-vllm-qwen-7b.yaml",
        "namespace-inference.yaml",
        "gpu-operator.values.yaml",
        "kube-prometheus-stack.values.yaml",
        # A patch of an object the EKS add-on owns is named as one, not as the DaemonSet.
        "daemonset-patch-kube-system-aws-node.yaml",
    ):
        assert expected in names
    assert "daemonset-kube-system-aws-node.yaml" not in names
    server = yaml.safe_load(files["statefulset-inference-vllm-qwen-7b.yaml"])
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
        _reg("kubernetes:apps/v1:Deployment", "f", {"spec": {"image": "nginx:1.27"}}),
        _reg("kubernetes:apps/v1:Deployment", "g", {"image": "ghcr.io/x/y@sha256:" + "a" * 64}),
        _reg("kubernetes:apps/v1:Deployment", "h", {"spec": {"image": "vllm/vllm-openai:v0.21.0"}}),
        _reg("pulumi:providers:aws", "p", {}, provider=None),
    ]
    found = check(resources, {})
    assert sorted((f.rule, f.resource) for f in found) == [
        ("default-providers-disabled", None),
        ("explicit-provider", "aws:s3/bucket:Bucket::b"),
        ("pinned-images", "kubernetes:apps/v1:Deployment::d"),
        ("pinned-images", "kubernetes:apps/v1:Deployment::e"),
        ("pinned-images", "kubernetes:apps/v1:Deployment::h"),  # vLLM's only by digest
    ]


def test_hub_models_without_a_token_are_flagged() -> None:
    def deployment(env: list[str]) -> Registration:
        container = {
            "name": "vllm",
            "env": [
                {"name": n, "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": n}}}
                if n == "HF_TOKEN"
                else {"name": n, "value": "x"}
                for n in env
            ],
            "resources": {"limits": {"memory": "1Gi"}},
        }
        spec = {"template": {"spec": {"containers": [container]}}}
        return _reg("kubernetes:apps/v1:Deployment", "d", {"spec": spec})

    config = {"pulumi:disable-default-providers": ["*"]}
    (finding,) = check([deployment(["HF_HOME"])], config)
    assert finding.rule == "hf-token" and "pulumi config set --secret hfToken" in finding.message
    assert check([deployment(["HF_HOME", "HF_TOKEN"])], config) == []
    known_open = deployment(["HF_HOME"])
    known_open.inputs["spec"]["template"]["spec"]["containers"][0]["args"] = ["Qwen/Qwen3-8B"]
    assert check([known_open], config) == [], "a family known not to be gated"


@pytest.mark.parametrize(
    ("type_", "key", "version", "end", "next_version", "after"),
    [
        ("aws:eks/cluster:Cluster", "version", "1.36", "2027-08-02", None, "until 2028-08-02"),
        ("aws:eks/cluster:Cluster", "version", "1.34", "2026-12-02", "1.35", "until 2027-12-02"),
        (
            "gcp:container/cluster:Cluster",
            "minMasterVersion",
            "1.35",
            "2027-04-11",
            "1.36",
            "Extended channel",
        ),
    ],
)
def test_support_finding_follows_the_calendar(
    type_: str, key: str, version: str, end: str, next_version: str | None, after: str
) -> None:
    cluster = _reg(type_, "c", {key: version}, provider="p::p")
    config = {"pulumi:disable-default-providers": ["*"]}
    last_day = datetime.date.fromisoformat(end)

    def support(today: datetime.date) -> list:
        return [f for f in check([cluster], config, today=today) if f.rule == "kubernetes-support"]

    assert support(last_day - datetime.timedelta(days=61)) == []
    (warned,) = support(last_day - datetime.timedelta(days=60))
    assert warned.severity == "warning"
    assert "leaves" in warned.message and end in warned.message and "in 60 days" in warned.message
    (on_last_day,) = support(last_day)
    assert "in 0 days" in on_last_day.message
    (past,) = support(last_day + datetime.timedelta(days=1))
    assert "left" in past.message and end in past.message and after in past.message
    upgrade = f"upgrade cluster.kubernetesVersion to {next_version}" if next_version else None
    assert upgrade is None or upgrade in past.message


@pytest.mark.parametrize("name", ["dev", "gcp-dev"])
def test_shipped_stacks_have_no_support_warning_today(name: str) -> None:
    """The stacks ship the newest version both clouds support (checked on the day of writing,
    2026-12-01, and for as long as it stays more than 60 days before its end)."""
    found = check(
        recorded(name).resources,
        {"pulumi:disable-default-providers": ["*"]},
        today=datetime.date(2026, 12, 1),
    )
    assert [f for f in found if f.rule == "kubernetes-support"] == []
    assert kubernetes_version("dev") == kubernetes_version("prod") == k8s_versions.SUPPORTED[-1]
    assert kubernetes_version("gcp-dev") == k8s_versions.SUPPORTED[-1]


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


def _gated_stack(tmp_path: Path, token: bool) -> Path:
    config = platform_config("gcp-dev")  # the smallest shipped stack: the plan runs it in full
    config["models"]["qwen-7b"]["source"] = "meta-llama/Llama-3.1-8B-Instruct"
    document: dict = {
        "config": {"pulumi:disable-default-providers": ["*"], "gpu-platform:platform": config}
    }
    if token:
        document["config"]["gpu-platform:hfToken"] = {"secure": "v1:ciphertext"}
    path = tmp_path / f"Pulumi.gated-{token}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_gated_model_needs_a_token_in_the_gcp_example(tmp_path: Path) -> None:
    result = runner.invoke(plan.app, ["--stack-file", str(_gated_stack(tmp_path, False))])
    assert result.exit_code == plan.EXIT_INVALID_CONFIG, result.output
    assert "models.qwen-7b.source: meta-llama/Llama-3.1-8B-Instruct is gated" in result.output
    assert "pulumi config set --secret hfToken" in result.output
    assert "Traceback" not in result.output
    with_token = runner.invoke(plan.app, ["--stack-file", str(_gated_stack(tmp_path, True))])
    assert with_token.exit_code == 0, with_token.output


def test_the_program_itself_rejects_a_gated_model_without_a_token_on_gcp() -> None:
    """`pulumi up` runs __main__.py, not the plan: the same rule holds there."""
    config = gcp_production_config()
    assert config["models"]["qwen-7b"]["source"] == GATED_SOURCE
    with pytest.raises(ConfigError, match=f"{GATED_SOURCE} is gated"):
        run_main(config)
    secret = gcp_production().one("kubernetes:core/v1:Secret", "gcp-dev-hf-token")
    assert secret.inputs["metadata"]["name"] == "hf-token"
    assert secret.inputs["stringData"] == "[secret]"


def test_gated_families_match_case_insensitively() -> None:
    assert hub.gated_by("Meta-Llama/Llama-3.3-70B-Instruct") is not None
    assert hub.gated_by("mistralai/Mistral-7B-Instruct-v0.3") is not None
    assert hub.gated_by("google/flan-t5-xl") is None
    assert hub.gated_by("Qwen/Qwen2.5-7B-Instruct") is None and hub.known_open("qwen/x")


def test_plan_output_is_byte_identical_across_runs(
    cli_plans: dict[str, CliPlan], tmp_path: Path
) -> None:
    """Registration order and the wire's map order vary between runs; the JSON and manifests
    the plan writes must not, so that plan diffs show only real changes."""
    first = cli_plans["dev"]
    second = _run_cli(tmp_path, "--stack-file", str(STACK_FILES["dev"]))
    assert second.json_bytes == first.json_bytes
    assert second.manifests == first.manifests and len(first.manifests) > 20
    seen: set[str] = set()
    for r in first.document["resources"]:
        assert r["parent"] is None or r["parent"] in seen, "each resource after its parent"
        seen.add(f"{r['type']}::{r['name']}")


def test_the_benchmark_floor_replays_the_same_registrations() -> None:
    """tools/replay registers what the plan registered (types, names, parents, providers,
    dependencies), so the benchmark compares the plan with the same work done naively."""
    original = recorded("dev")
    document = {"resources": [r.as_json() for r in reversed(original.resources)]}
    replayed = run_mocked(lambda: replay.replay(document["resources"]))
    # (Replayed inputs hold the plan's "[secret]" markers as plain text: no secret digests.)
    unset = {"inputs": None, "secrets": None}
    assert [r.as_json() | unset for r in replayed.resources] == [
        r.as_json() | unset for r in original.resources
    ]
    assert {r.key: r.inputs for r in replayed.resources if r.custom} == {
        r.key: r.inputs for r in original.resources if r.custom
    }
