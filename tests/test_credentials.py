"""One deploy identity: the cloud provider and the cluster's kubeconfig use the same profile and
role (EKS) or application-default credentials (GKE), and provider config keys that the program
would ignore are errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import (
    DEPLOY_ROLE,
    PLATFORM_KEY,
    dev_variant,
    dev_variant_config,
    platform_config,
    recorded,
    run_main,
    stack_file,
)
from typer.testing import CliRunner

from gpu_platform import kubeconfig
from stacks.config import ConfigError
from tools import plan

ROLE = DEPLOY_ROLE


def _exec(kube: dict[str, Any]) -> dict[str, Any]:
    (user,) = kube["users"]
    return user["user"]["exec"]


def test_aws_profile_and_role_reach_the_provider_and_the_kubeconfig() -> None:
    assert dev_variant_config()["cloud"]["assumeRoleArn"] == ROLE
    recording, mocks = dev_variant()
    (provider,) = (p.inputs for p in recording.of_type("pulumi:providers:aws"))
    (kubeconfig_text,) = mocks.kubeconfigs
    kube = json.loads(kubeconfig_text)
    assert provider["profile"] == "platform-ci"
    # Provider inputs travel as JSON strings (the engine passes them as provider config).
    assert json.loads(provider["assumeRoles"]) == [{"roleArn": ROLE, "sessionName": "gpu-platform"}]
    exec_ = _exec(kube)
    assert exec_["command"] == "aws"
    assert exec_["args"][exec_["args"].index("--role-arn") + 1] == ROLE
    assert exec_["env"] == [{"name": "AWS_PROFILE", "value": "platform-ci"}]


def test_without_settings_both_use_the_ambient_aws_identity() -> None:
    (provider,) = recorded("dev").of_type("pulumi:providers:aws")
    assert "profile" not in provider.inputs and "assumeRoles" not in provider.inputs
    exec_ = _exec(json.loads(kubeconfig.render_eks("c", "https://e", "Y2E=", "us-east-1")))
    assert "--role-arn" not in exec_["args"] and "env" not in exec_


def test_gke_kubeconfig_uses_application_default_credentials() -> None:
    (provider,) = recorded("gcp-dev").of_type("pulumi:providers:gcp")
    assert provider.inputs["project"] == "my-gpu-project"
    assert "credentials" not in provider.inputs, "application-default credentials"
    exec_ = _exec(json.loads(kubeconfig.render_gke("c", "203.0.113.1", "Y2E=")))
    assert exec_["command"] == "gke-gcloud-auth-plugin"
    assert exec_["args"] == ["--use_application_default_credentials"]


def test_kubeconfig_holds_no_credential() -> None:
    text = kubeconfig.render_eks("c", "https://e", "Y2E=", "us-east-1", role_arn=ROLE)
    user = json.loads(text)["users"][0]["user"]
    assert set(user) == {"exec"}, "a token is fetched per use, never stored"


def test_provider_config_keys_are_rejected_with_where_they_belong() -> None:
    try:
        run_main(platform_config("dev"), extra_config={"aws:profile": "x", "aws:region": "y"})
    except ConfigError as error:
        problems = error.problems
    else:
        raise AssertionError("aws:* keys were ignored silently")
    assert len(problems) == 2
    assert problems[0].startswith("aws:profile: not read") and "set cloud.profile" in problems[0]
    assert problems[1].startswith("aws:region: not read") and "set cloud.region" in problems[1]


def test_the_offline_plan_rejects_them_before_running(tmp_path: Path) -> None:
    document = {"config": {**stack_file("gcp-dev").config, "gcp:credentials": "/key.json"}}
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(yaml.safe_dump(document))
    result = CliRunner().invoke(plan.app, ["--stack-file", str(path), "--quiet"])
    assert result.exit_code == plan.EXIT_INVALID_CONFIG
    assert "gcp:credentials: not read" in result.output
    assert "application-default credentials" in result.output
    assert PLATFORM_KEY in document["config"]


def test_a_project_key_the_program_does_not_read_is_an_error(tmp_path: Path) -> None:
    """Pulumi passes any key; a typo of hfToken would leave the models without their token,
    and a platform setting beside `platform` would do nothing."""
    config = {**stack_file("dev").config, "gpu-platform:hftoken": "x", "gpu-platform:cloud": "y"}
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    result = CliRunner().invoke(plan.app, ["--stack-file", str(path), "--quiet"])
    assert result.exit_code == plan.EXIT_INVALID_CONFIG
    assert "gpu-platform:hftoken: not read by this program" in result.output
    assert "did you mean gpu-platform:hfToken?" in result.output
    assert "gpu-platform:cloud: not read by this program" in result.output
    assert "platform settings go inside gpu-platform:platform" in result.output
    assert "Traceback" not in result.output


def test_the_program_refuses_them_under_pulumi_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pulumi up` runs __main__.py with every stack config key in PULUMI_CONFIG."""
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"gpu-platform:hftoken": "x"}))
    with pytest.raises(ConfigError, match="gpu-platform:hftoken: not read by this program"):
        run_main(platform_config("dev"))
