"""The test harness: stack configs and runners that execute the real program (or any
component code) under Pulumi's mock engine and return what it registered.

Every mock run gets a fresh event loop, root stack and Mocks (see tools.mockengine.run_program),
runs with preview=False so every `apply` resolves, and is asserted on after it finished.
"""

from __future__ import annotations

import copy
import functools
import runpy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from conftest import ROOT, STACK_FILES
from pulumi.runtime import rpc

from stacks.config import CONFIG_KEY, PROJECT, ConfigError, parse
from stacks.keys import HF_TOKEN_KEY
from tools import plan, report, stackfile
from tools.mockdata import PlanMocks
from tools.mockengine import Recording, run_program

PLATFORM_KEY = f"{PROJECT}:{CONFIG_KEY}"


@functools.cache
def stack_file(name: str) -> stackfile.StackFile:
    """A shipped stack file, parsed once per session. Shared: never mutate it (platform_config
    gives a copy to change)."""
    return stackfile.read(STACK_FILES[name], PROJECT)


def platform_config(name: str) -> dict[str, Any]:
    """A deep copy of a stack's `gpu-platform:platform` value, safe to mutate in a test."""
    return copy.deepcopy(stack_file(name).config[PLATFORM_KEY])


def kubernetes_version(name: str) -> str:
    """The Kubernetes minor version a shipped stack targets (its schemas check what it renders)."""
    return str(stack_file(name).config[PLATFORM_KEY]["cluster"]["kubernetesVersion"])


def run_main(
    platform: dict[str, Any],
    *,
    stack: str = "test",
    extra_config: dict[str, Any] | None = None,
    secret_keys: tuple[str, ...] = (),
    recording: Recording | None = None,
    engine_mocks: PlanMocks | None = None,
    receiver_secrets: bool = True,
) -> Recording:
    """Run the real `__main__.py` with this platform config under the mock engine (the
    offline plan's mocks, or `engine_mocks` to watch what the program asks the cloud), with
    the configured alert receivers' credentials set unless `receiver_secrets` is False."""
    config = {
        "pulumi:disable-default-providers": ["*"],
        PLATFORM_KEY: platform,
        **(extra_config or {}),
    }
    if receiver_secrets:
        # As an operator sets them before `pulumi up`: the configured receivers' credentials.
        alerts = (platform.get("observability") or {}).get("alerts") or {}
        stand_ins = {
            f"{PROJECT}:pagerdutyRoutingKey": alerts.get("pagerduty") is True,
            f"{PROJECT}:slackWebhookUrl": alerts.get("slack") is not None,
        }
        for key, used in stand_ins.items():
            if used and key not in config:
                config[key] = f"test-{key.split(':')[1]}"
                secret_keys = (*secret_keys, key)
    cloud = platform.get("cloud", {}) if isinstance(platform, dict) else {}
    return run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        project=PROJECT,
        stack=stack,
        config=config,
        secret_keys=secret_keys,
        recording=recording,
        engine_mocks=engine_mocks
        or PlanMocks(
            region=cloud.get("region", "us-east-1"), project=cloud.get("project", "mock-project")
        ),
    )


@functools.cache
def planned(name: str) -> report.Plan:
    """The offline plan of a shipped stack file (`tools.plan.build_plan`, the CLI's own path),
    built once per test session. Shared: never mutate it."""
    return plan.build_plan(name, STACK_FILES[name])


def recorded(name: str) -> Recording:
    """What a shipped stack file's program registered (its plan's recording)."""
    return planned(name).recording


class RecordedStacks(Mapping[str, Recording]):
    """The shipped stacks' recordings by name; each stack runs when first looked up, so a
    worker that only needs AWS stacks never loads the GCP SDK."""

    def __getitem__(self, name: str) -> Recording:
        return recorded(name)

    def __iter__(self) -> Iterator[str]:
        return iter(STACK_FILES)

    def __len__(self) -> int:
        return len(STACK_FILES)


# An on-demand A100 pool partitioned into 3g.40gb MIG slices, serving nothing (the variants'
# MIG settings are checked on the cluster, not on a model).
A100_MIG = {
    "gpu": "a100-80gb",
    "gpusPerNode": 8,
    "capacity": "on-demand",
    "minNodes": 0,
    "maxNodes": 1,
    "workload": "inference",
    "sharing": {"mode": "mig", "migProfile": "3g.40gb"},
}


def refused(config: dict[str, Any]) -> list[str]:
    """The problems a stack config is refused with (it must be refused)."""
    with pytest.raises(ConfigError) as caught:
        parse(config)
    return caught.value.problems


def prod_variant_config() -> dict[str, Any]:
    """prod with three independent changes, each checked by its own tests: an H100 pool
    partitioned 1g.10gb beside an A100 pool's 3g.40gb (two MIG profiles in one cluster), the
    inference namespace's GPU quota set by hand, and a public API open to any address."""
    config = platform_config("prod")
    config["nodePools"]["a100-mig"] = dict(A100_MIG)
    config["nodePools"]["h100-mig"] = {
        "gpu": "h100",
        "gpusPerNode": 8,
        "capacity": "on-demand",
        "maxNodes": 1,
        "sharing": {"mode": "mig", "migProfile": "1g.10gb"},
    }
    config.setdefault("addons", {})["gpuQuota"] = {"inference": 24}
    config["cluster"] |= {"endpointAccess": "public", "publicAccessCidrs": ["0.0.0.0/0"]}
    return config


@functools.cache
def prod_variant() -> Recording:
    """The program run of `prod_variant_config()`, once per session. Shared: never mutate it."""
    return run_main(prod_variant_config(), stack="prod")


HF_TOKEN = "hf_test_token_value"
ADMIN_ROLE = "arn:aws:iam::123456789012:role/platform-admins"
DEPLOY_ROLE = "arn:aws:iam::123456789012:role/gpu-platform-deploy"


class WatchingMocks(PlanMocks):
    """The plan's mocks, also keeping what the program asked for that its recording cannot show:
    the arguments of every EKS add-on version lookup, and the kubeconfig given to the
    Kubernetes provider (a secret, which the recording redacts)."""

    def __init__(self) -> None:
        super().__init__()
        self.addon_lookups: list[dict] = []
        self.kubeconfigs: list[str] = []

    def call(self, args):  # the SDK's signature
        if args.token == "aws:eks/getAddonVersion:getAddonVersion":
            self.addon_lookups.append(dict(args.args))
        return super().call(args)

    def new_resource(self, args):  # the SDK's signature
        if args.typ == "pulumi:providers:kubernetes":
            self.kubeconfigs.append(rpc.unwrap_rpc_secret(args.inputs["kubeconfig"]))
        return super().new_resource(args)


def dev_variant_config() -> dict[str, Any]:
    """dev with independent changes, each checked by its own tests: Kubernetes 1.35, one EKS
    add-on version set by hand, an admin role, a named AWS profile and deploy role, an A100
    pool partitioned 3g.40gb (one MIG profile: the single strategy), and qwen-7b served from
    the hub rather than mirrored. The run also gets a Hugging Face token (a config secret)."""
    config = platform_config("dev")
    config["nodePools"]["a100-mig"] = dict(A100_MIG)
    config["models"]["qwen-7b"]["mirror"] = False  # served from the hub, with the token
    config["cluster"]["kubernetesVersion"] = "1.35"
    config["cluster"]["addonVersions"] = {"vpc-cni": "v1.22.4-eksbuild.3"}
    config["cluster"]["adminRoleArns"] = [ADMIN_ROLE]
    config["cloud"] |= {"profile": "platform-ci", "assumeRoleArn": DEPLOY_ROLE}
    return config


@functools.cache
def dev_variant() -> tuple[Recording, WatchingMocks]:
    """The program run of `dev_variant_config()` with a token and a Grafana admin password,
    once per session, and what it asked the mocks. Shared: never mutate it."""
    mocks = WatchingMocks()
    recording = run_main(
        dev_variant_config(),
        stack="dev",
        extra_config={
            f"{PROJECT}:{HF_TOKEN_KEY}": HF_TOKEN,
            f"{PROJECT}:grafanaAdminPassword": "a-grafana-password",
        },
        secret_keys=(f"{PROJECT}:{HF_TOKEN_KEY}", f"{PROJECT}:grafanaAdminPassword"),
        engine_mocks=mocks,
    )
    return recording, mocks


GATED_SOURCE = "google/gemma-3-12b-it"
GCP_PRODUCTION_STACK = "Team.Prod"  # not a valid GCP label value as it stands


def gcp_production_config() -> dict[str, Any]:
    """The GKE example as a production stack (models pinned to a revision, as production
    requires) whose model is a gated one, with a production vector store that one more
    namespace reads."""
    config = platform_config("gcp-dev")
    config["production"] = True
    for model in config["models"].values():
        model["revision"] = "a" * 40
    config["models"]["qwen-7b"]["source"] = GATED_SOURCE
    config["vectorStore"] = {
        "engine": "pgvector",
        "replicas": 2,
        "dimensions": 384,  # bge-small's
        "distance": "inner-product",
        "postgresVersion": "18",
        "backups": {"enabled": True, "retentionDays": 30},
        "clientNamespaces": ["rag-apps"],
    }
    return config


@functools.cache
def gcp_production() -> Recording:
    """The program run of `gcp_production_config()` with a Hugging Face token, as stack
    `GCP_PRODUCTION_STACK`, once per session. Shared: never mutate it."""
    return run_main(
        gcp_production_config(),
        stack=GCP_PRODUCTION_STACK,
        extra_config={f"{PROJECT}:{HF_TOKEN_KEY}": HF_TOKEN},
        secret_keys=(f"{PROJECT}:{HF_TOKEN_KEY}",),
    )


def run_mocked(program: Callable[[], Any], *, stack: str = "test") -> Recording:
    """Run arbitrary component code under the mock engine (no stack config)."""
    return run_program(program, project=PROJECT, stack=stack, config={})
