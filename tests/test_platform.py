"""The program under the mock engine: root component, explicit cloud providers, outputs."""

from __future__ import annotations

import json

from harness import recorded, stack_file

from gpu_platform.platform.component import TOKEN
from tools.findings import check


def test_everything_hangs_off_one_platform_component(any_stack: str) -> None:
    recording = recorded(any_stack)
    root = recording.one(TOKEN)
    assert root.parent is None and not root.custom
    assert all(r.parent is not None for r in recording.resources if r is not root)


def test_aws_provider_is_explicit_regional_and_tagged() -> None:
    recording = recorded("dev")
    provider = recording.one("pulumi:providers:aws")
    assert provider.name == "dev-aws"
    assert provider.parent == f"{TOKEN}::dev"
    assert provider.inputs["region"] == "us-east-1"
    # Provider inputs reach the engine JSON-encoded.
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert tags == {
        "gpuplatform.io/environment": "dev",
        "gpuplatform.io/stack": "dev",
        "gpuplatform.io/project": "gpu-platform",
        "gpuplatform.io/managed-by": "pulumi",
    }
    assert recording.of_type("pulumi:providers:gcp") == []


def test_gcp_provider_has_project_region_and_valid_labels() -> None:
    recording = recorded("gcp-dev")
    provider = recording.one("pulumi:providers:gcp")
    assert provider.inputs["project"] == "my-gpu-project"
    assert provider.inputs["region"] == "us-central1"
    labels = json.loads(provider.inputs["defaultLabels"])
    assert labels["gpuplatform_io_environment"] == "gcp-dev"
    # GCP label keys allow only lowercase letters, digits, '_' and '-'.
    assert all(key.replace("_", "").replace("-", "").isalnum() for key in labels)
    assert recording.of_type("pulumi:providers:aws") == []


def test_stack_files_disable_default_providers(any_stack: str) -> None:
    assert stack_file(any_stack).config["pulumi:disable-default-providers"] == ["*"]


def test_no_custom_resource_without_a_provider(any_stack: str) -> None:
    recording = recorded(any_stack)
    config = {"pulumi:disable-default-providers": ["*"]}
    assert [f for f in check(recording.resources, config) if f.rule == "explicit-provider"] == []


def test_outputs_summarise_the_stack() -> None:
    outputs = recorded("prod").outputs
    assert outputs["environment"] == "prod"
    assert outputs["cloud"] == {"provider": "aws", "region": "us-east-1"}
    assert outputs["clusterName"] == "gp-prod"
    assert outputs["nodePools"]["h100-reserved"] == {
        "gpu": "h100",
        "gpusPerNode": 8,
        "capacity": "reserved",
        "minNodes": 2,
        "maxNodes": 2,
    }
