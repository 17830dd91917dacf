"""The README's config reference is generated from the model and must not drift from it."""

from __future__ import annotations

from conftest import ROOT

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
