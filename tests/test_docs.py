"""The README stays true: its config reference is generated from the model, and the tables it
quotes (quotas, version pins) match what the program computes."""

from __future__ import annotations

from harness import ROOT, platform_config

from gpu_platform import k8s_versions
from gpu_platform.quotas import quota_needs
from stacks.config import parse
from stacks.estimate import effective_pools
from tools import configdoc


def test_readme_config_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert configdoc.render() in readme, "README.md is out of date: run `make docs`"


def test_reference_lists_every_key() -> None:
    keys = {row[0] for row in configdoc.rows(configdoc.StackConfig)}
    for key in (
        "`environment`",
        "`cloud.project`",
        "`cluster.kubernetesVersion`",
        "`nodePools.<name>.sharing.migProfile`",
        "`pricing.hourlyUsd`",
    ):
        assert key in keys


def test_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make plan" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci


def test_readme_quota_table_matches_what_the_stacks_need() -> None:
    """The quotas the README quotes for the shipped AWS stacks are the plan's."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Quotas", 1)[1].split("\n### ", 1)[0]
    quoted = {
        (cells[0], cells[1]): (cells[2], cells[3])
        for line in section.splitlines()
        if line.startswith(("| dev ", "| prod "))
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    expected = {}
    for stack in ("dev", "prod"):
        config = parse(platform_config(stack))
        for need in quota_needs(config.cloud.provider, effective_pools(config)):
            at_min = f"{need.at_min} {need.unit}" if need.at_min else "0"
            expected[(stack, need.quota)] = (at_min, f"{need.at_max} {need.unit}")
    assert quoted == expected


def test_readme_kubernetes_versions_table_matches_the_pins() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Kubernetes versions", 1)[1].split("\n### ", 1)[0]
    rows = {
        cells[0]: cells[1:]
        for line in section.splitlines()
        if line.startswith("| ")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert rows[""] == list(k8s_versions.SUPPORTED)
    assert rows["EKS AL2023 (NVIDIA) AMI release"] == [
        k8s_versions.EKS_AMI_RELEASES[v] for v in k8s_versions.SUPPORTED
    ]
    assert rows["EKS end of standard support"] == [
        str(k8s_versions.EKS_SUPPORT[v].standard_end) for v in k8s_versions.SUPPORTED
    ]
    for addon in ("kube-proxy", "coredns"):
        assert rows[f"{addon} add-on"] == [
            k8s_versions.EKS_ADDON_VERSIONS[v][addon] or "resolved at deploy"
            for v in k8s_versions.SUPPORTED
        ]
    assert rows["cluster-autoscaler chart (image)"][-1] == "9.59.0 (v1.36.1)"
