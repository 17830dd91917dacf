"""The GitHub workflows: every action pinned to the commit of a vendored release and given only
inputs that release defines; least permissions; one operation per stack at a time; no secret in
the plan job (it runs on forks); the Pulumi CLI at the SDK's version. `make lint` validates the
files against GitHub's workflow schema and runs actionlint (with shellcheck); the last test
shows both catch what they are there to catch."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT

WORKFLOWS = ROOT / ".github/workflows"
UPSTREAM = ROOT / "tests/upstream"
BIN = Path(sys.executable).parent
USES = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40})$")


def _workflows() -> dict[str, dict[str, Any]]:
    # PyYAML reads the `on:` key as True (YAML 1.1); the tests never need it by name.
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(WORKFLOWS.glob("*.yml"))}


def _steps() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, job_name, step)
        for name, workflow in _workflows().items()
        for job_name, job in workflow["jobs"].items()
        for step in job.get("steps", [])
    ]


def _vendored_actions() -> dict[str, tuple[str, set[str]]]:
    """action -> (pinned commit, its inputs), from tests/upstream."""
    sources = yaml.safe_load((UPSTREAM / "sources.yaml").read_text())["sources"]
    actions = {}
    for source in sources.values():
        if "action.yml" not in (source.get("files") or {}):
            continue
        definition = yaml.safe_load((UPSTREAM / source["files"]["action.yml"]).read_text())
        actions[source["repo"]] = (source["commit"], set(definition.get("inputs") or {}))
    return actions


def test_the_expected_workflows_exist() -> None:
    assert set(_workflows()) == {
        "pull-request.yml",
        "plan-comment.yml",
        "deploy.yml",
        "drift.yml",
    }


def test_every_action_is_a_vendored_release_pinned_by_commit_with_known_inputs() -> None:
    actions = _vendored_actions()
    used = set()
    for workflow, job, step in _steps():
        if "uses" not in step:
            continue
        match = USES.match(step["uses"])
        assert match, f"{workflow} {job}: {step['uses']} is not pinned by commit SHA"
        action, sha = match["action"], match["sha"]
        assert action in actions, f"{workflow}: {action} has no vendored action.yml"
        commit, inputs = actions[action]
        assert sha == commit, f"{workflow} {job}: {action}@{sha} is not the vendored {commit}"
        unknown = set(step.get("with") or {}) - inputs
        assert not unknown, f"{workflow} {job}: {action} has no inputs {sorted(unknown)}"
        used.add(action)
    assert used == set(actions), "every vendored action is used"
    # The tag each SHA stands for is named beside it.
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text().splitlines():
            if "uses:" in line:
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_permissions_are_granted_per_job_and_least() -> None:
    for name, workflow in _workflows().items():
        assert workflow["permissions"] == {}, f"{name}: nothing at the workflow level"
        for job_name, job in workflow["jobs"].items():
            granted = job.get("permissions")
            assert isinstance(granted, dict) and granted, f"{name} {job_name}: explicit permissions"
            writes = {k for k, v in granted.items() if v == "write"}
            steps = yaml.safe_dump(job)
            if "id-token" in writes:
                assert "configure-aws-credentials" in steps or "google-github-actions/auth" in steps
            if "pull-requests" in writes:
                assert "comment-on-pr: true" in steps or "issues/comments" in steps
            if "issues" in writes:
                assert "gh issue" in steps
            assert "contents" not in writes, f"{name} {job_name}: never writes the repository"


def test_the_plan_job_needs_no_secret_and_checks_out_no_credentials() -> None:
    pull_request = _workflows()["pull-request.yml"]
    plan = pull_request["jobs"]["plan"]
    assert "secrets." not in yaml.safe_dump(plan)
    assert plan["permissions"] == {"contents": "read"}
    for step in plan["steps"] + pull_request["jobs"]["test"]["steps"]:
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
    # The comment workflow reads the artifact, never the pull request's code.
    comment = yaml.safe_dump(_workflows()["plan-comment.yml"])
    assert "actions/checkout" not in comment and "head.sha" in comment


def test_one_operation_per_stack_at_a_time() -> None:
    groups: dict[str, list[str]] = {}
    for name in ("deploy.yml", "drift.yml"):
        for job_name, job in _workflows()[name]["jobs"].items():
            concurrency = job["concurrency"]
            assert concurrency["cancel-in-progress"] is False, "a deployment is never cancelled"
            groups.setdefault(concurrency["group"], []).append(f"{name}:{job_name}")
    assert groups["stack-dev"] == ["deploy.yml:dev"]
    assert groups["stack-prod"] == ["deploy.yml:prod-preview", "deploy.yml:prod"]
    # Drift checks take no stack lock and keep out of the deployments' groups, where a newly
    # queued job would cancel a deployment waiting for its turn.
    assert groups["drift-${{ matrix.stack }}"] == ["drift.yml:refresh"]


def test_cloud_credentials_come_from_environments() -> None:
    """A pull request's preview runs its code: it gets the `preview` environment's read-only
    credentials, never the deploy ones."""
    preview = _workflows()["pull-request.yml"]["jobs"]["preview"]
    assert preview["environment"] == "preview"
    jobs = _workflows()["deploy.yml"]["jobs"]
    assert {name: job["environment"] for name, job in jobs.items()} == {
        "dev": "dev",
        "prod-preview": "prod-preview",
        "prod": "prod",
    }
    assert jobs["dev"]["if"] == "github.ref == 'refs/heads/main'"


def test_prod_deploys_after_a_preview_behind_its_environment_with_the_policy_pack() -> None:
    jobs = _workflows()["deploy.yml"]["jobs"]
    assert jobs["prod"]["needs"] == "prod-preview" and jobs["prod"]["environment"] == "prod"
    assert jobs["prod-preview"]["needs"] == "dev"
    for job in ("dev", "prod-preview", "prod"):
        (pulumi,) = [s for s in jobs[job]["steps"] if s.get("uses", "").startswith("pulumi/")]
        assert pulumi["with"]["policyPacks"] == "policy"
        assert pulumi["with"]["refresh"] is True
        assert pulumi["with"]["command"] == ("preview" if job == "prod-preview" else "up")


def _locked(name: str) -> str:
    """The version uv.lock resolves a package to."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (version,) = [p["version"] for p in lock["package"] if p["name"] == name]
    return version


def test_the_pulumi_cli_is_the_sdks_version() -> None:
    sdk = _locked("pulumi")
    assert (ROOT / ".pulumi.version").read_text().strip() == sdk
    requirements = (ROOT / "policy/requirements.txt").read_text()
    assert f"pulumi=={sdk}" in requirements
    policy = re.search(r'"pulumi-policy==([\d.]+)"', (ROOT / "pyproject.toml").read_text())
    assert policy and f"pulumi-policy=={policy[1]}" in requirements


def test_the_schema_check_and_actionlint_catch_broken_workflows(tmp_path: Path) -> None:
    """The same commands `make lint` runs, on a copy of the workflows plus a broken one."""
    shutil.copytree(WORKFLOWS, tmp_path / ".github/workflows")
    env = {"PATH": f"{BIN}:/usr/bin:/bin"}

    def lint(broken: str) -> tuple[int, int, str]:
        path = tmp_path / ".github/workflows/broken.yml"
        path.write_text(broken)
        schema = subprocess.run(
            [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path],
            capture_output=True,
            text=True,
            check=False,
        )
        files = sorted((tmp_path / ".github/workflows").glob("*.yml"))
        actionlint = subprocess.run(
            [BIN / "actionlint", *files],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        path.unlink()
        return schema.returncode, actionlint.returncode, actionlint.stdout

    ok = "name: ok\non: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n"
    assert lint(ok + "    steps:\n      - run: echo ok\n")[:2] == (0, 0)
    # Not a workflow: jobs without a runner.
    schema, _, _ = lint("name: x\non: push\njobs:\n  a:\n    steps: 5\n")
    assert schema != 0
    # A script word-splitting a variable, and an untrusted title pasted into a script.
    # (actionlint knows the inputs of tagged actions only; the SHA-pinned ones' inputs are
    # checked against their vendored action.yml above.)
    bad_steps = "    steps:\n      - run: echo $FOO ${{ github.event.pull_request.title }}\n"
    _, status, report = lint(ok + bad_steps)
    assert status != 0
    assert "SC2086" in report and "potentially untrusted" in report


@pytest.mark.parametrize("name", ["drift.yml", "pull-request.yml"])
def test_the_workflow_scripts_pass_shellcheck(name: str) -> None:
    """actionlint runs shellcheck on every `run:` (the `make lint` step); here on each file."""
    result = subprocess.run(
        [BIN / "actionlint", WORKFLOWS / name],
        cwd=ROOT,
        env={"PATH": f"{BIN}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
