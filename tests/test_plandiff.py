"""The plan diff on real plan pairs: the program planned before and after a change.

- prod -> prod with l4-spot on g6.2xlarge and l4-batch-spot removed: the node group replaced
  (instanceTypes forces a new one), the pool deleted, the cost delta per line item;
- dev with a managed vector store -> a bigger RDS class, one more model and a rotated Hugging
  Face token: the database updated in place with its cost, the model's resources created, the
  token's Secret changed with its value hidden;
- identical plans give "no changes"; a long diff is trimmed, never its summary; the README's
  example is what the tool prints today; exit code 3 with --fail-on-stateful-change.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT, planned, platform_config
from typer.testing import CliRunner

from tools import diffexample, diffplan, diffreport, plan, plandiff, replacements

runner = CliRunner()
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
RDS = "aws:rds/instance:Instance"
SECRET = "kubernetes:core/v1:Secret"


def _plan(directory: Path, stack: str, platform: dict, token: str | None = None) -> dict:
    config: dict[str, Any] = {
        "pulumi:disable-default-providers": ["*"],
        "gpu-platform:platform": platform,
    }
    if token is not None:
        config["gpu-platform:hfToken"] = {"secure": token}
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return json.loads(json.dumps(plan.build_plan(stack, path).as_json()))


def _managed(instance_class: str) -> dict:
    config = platform_config("dev")
    config["vectorStore"] = {
        "engine": "pgvector",
        "mode": "managed",
        "dimensions": 384,
        "instanceClass": instance_class,
    }
    return config


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Four real plans (the program run under the mock engine) and prod's shipped one."""
    directory = tmp_path_factory.mktemp("plans")
    dev_after = _managed("db.r7g.large")
    dev_after["models"]["qwen-0-5b"] = {
        "source": "Qwen/Qwen2.5-0.5B-Instruct",
        "revision": "7ae557604adf67be50417f59c2c2f167def9a775",
        "nodePool": "l4-spot",
        "minReplicas": 0,
        "maxReplicas": 1,
        "maxModelLen": 4096,
        "parametersB": 0.49,
    }
    return {
        "prod": json.loads(json.dumps(planned("prod").as_json())),
        "prod-changed": diffexample.changed_plan(),
        "dev-managed": _plan(directory, "dev", _managed("db.t4g.medium"), "v1:AAAA"),
        "dev-changed": _plan(directory, "dev", dev_after, "v1:BBBB"),
    }


def _change(diff: diffplan.StackDiff, type_: str, name: str) -> diffplan.ResourceChange:
    (change,) = [c for c in diff.changes if c.type == type_ and c.name == name]
    return change


def test_a_changed_instance_type_replaces_the_node_group_and_moves_the_cost(plans: dict) -> None:
    diff = diffplan.diff(plans["prod"], plans["prod-changed"])
    group = _change(diff, NODE_GROUP, "prod-l4-spot-ng")
    assert (group.action, group.stateful, group.destructive) == ("replace", "node pool", True)
    (reason,) = [p for p in group.properties if p.replaces]
    # Spot pools default to every L4 type of one GPU (more capacity pools to draw on).
    assert reason.path == "instanceTypes" and reason.after == ["g6.2xlarge"]
    assert reason.before[0] == "g6.xlarge" and len(reason.before) > 1
    # The pool's line: 4 nodes at baseline (the models' minimum replicas), g6.2xlarge costs more.
    (line,) = [c for c in diff.cost if c.name == "l4-spot"]
    assert line.after_min > line.before_min and line.delta_min == round(
        line.after_min - line.before_min, 2
    )
    assert diff.total.delta_min == round(diff.total.after_min - diff.total.before_min, 2)


def test_a_removed_pool_deletes_its_node_group_first_and_in_bold(plans: dict) -> None:
    diff = diffplan.diff(plans["prod"], plans["prod-changed"])
    group = _change(diff, NODE_GROUP, "prod-l4-batch-spot-ng")
    assert (group.action, group.destructive) == ("delete", True)
    assert [c.name for c in diff.cost if c.name == "l4-batch-spot" and c.after_max == 0.0]
    text = diffreport.render_markdown([diff])
    head = text.partition("<details>")[0]
    assert f"**delete node pool `{NODE_GROUP}::prod-l4-batch-spot-ng`**" in head
    assert f"**replace node pool `{NODE_GROUP}::prod-l4-spot-ng`**" in head
    assert diffreport.summary(diff).startswith("prod: +")
    # The pool list of cluster-autoscaler's priority expander is a ConfigMap, which
    # pulumi-kubernetes replaces when its data changes.
    assert "2 replacements (node pool prod-l4-spot-ng, ConfigMap prod-autoscaler-priorities)" in (
        diffreport.summary(diff)
    )


def test_a_changed_database_class_updates_in_place_with_its_cost(plans: dict) -> None:
    diff = diffplan.diff(plans["dev-managed"], plans["dev-changed"])
    (database,) = [c for c in diff.changes if c.type == RDS]
    assert (database.action, database.stateful) == ("update", "database")
    (change,) = [p for p in database.properties if p.path == "instanceClass"]
    assert (change.before, change.after, change.replaces) == (
        "db.t4g.medium",
        "db.r7g.large",
        False,
    )
    (line,) = [c for c in diff.cost if c.name == "vector-store-instance"]
    assert line.delta_min == pytest.approx((0.239 - 0.065) * 730, abs=0.01)


def test_an_added_model_creates_its_resources(plans: dict) -> None:
    diff = diffplan.diff(plans["dev-managed"], plans["dev-changed"])
    created = {c.key for c in diff.changes if c.action == "create"}
    assert "kubernetes:apps/v1:StatefulSet::dev-qwen-0-5b-server" in created
    assert "gpuplatform:serving:VllmService::dev-qwen-0-5b" in created
    assert diff.count("delete") == 0


def test_a_rotated_secret_shows_as_changed_with_its_value_hidden(plans: dict) -> None:
    diff = diffplan.diff(plans["dev-managed"], plans["dev-changed"])
    secret = _change(diff, SECRET, "dev-hf-token")
    (change,) = secret.properties
    assert change.secret and change.path == "stringData"
    # pulumi-kubernetes replaces a Secret whose data changes (enableSecretMutable is off).
    assert secret.action == "replace" and change.replaces
    rendered = diffreport.render_text([diff]) + diffreport.render_markdown([diff])
    assert "stringData: secret changed, value hidden (replaces)" in rendered
    # Neither stand-in, nor anything else derived from the token, is printed.
    assert "offline-plan-stand-in-secret" not in rendered
    for document in (plans["dev-managed"], plans["dev-changed"]):
        assert "offline-plan-stand-in-secret" not in json.dumps(document)


def test_identical_plans_have_no_changes(plans: dict) -> None:
    diff = diffplan.diff(plans["prod"], copy.deepcopy(plans["prod"]))
    assert diff.unchanged and diffreport.summary(diff) == "prod: no changes"
    assert diffreport.render_text([diff]) == "prod: no changes\n"


def test_a_long_diff_is_trimmed_and_keeps_its_summary(plans: dict) -> None:
    """Every resource of prod created (a new stack), into a comment of 6,000 characters: the
    details go, step by step, never the summary line or the stateful changes."""
    diffs = [
        diffplan.diff({}, plans["prod"], "prod"),
        diffplan.diff(plans["prod"], plans["prod-changed"]),
    ]
    full = diffreport.render_markdown(diffs, limit=10**9)
    assert len(full) > 6000 and diffreport.TRIMMED not in full
    trimmed = diffreport.render_markdown(diffs, limit=6000)
    assert len(trimmed) <= 6000
    assert diffreport.TRIMMED in trimmed
    for d in diffs:
        assert f"- **{diffreport.summary(d)}**" in trimmed
    assert f"**delete node pool `{NODE_GROUP}::prod-l4-batch-spot-ng`**" in trimmed
    # Nothing fits but the summary: it stays whole.
    tiny = diffreport.render_markdown(diffs, limit=10)
    assert all(diffreport.summary(d) in tiny for d in diffs)


def test_the_cli_reads_directories_and_fails_on_stateful_change_when_asked(
    plans: dict, tmp_path: Path
) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    sides = {
        base: {"prod": plans["prod"]},
        head: {"prod": plans["prod-changed"], "dev": plans["dev-managed"]},
    }
    for directory, documents in sides.items():
        directory.mkdir()
        for stack, document in documents.items():
            (directory / f"{stack}.json").write_text(json.dumps(document))
    result = runner.invoke(plandiff.app, [str(base), str(head)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("dev: +") and lines[1].startswith("prod: +")
    failing = runner.invoke(plandiff.app, [str(base), str(head), "--fail-on-stateful-change"])
    assert failing.exit_code == plandiff.EXIT_STATEFUL
    same = runner.invoke(
        plandiff.app,
        [str(base / "prod.json"), str(base / "prod.json"), "--fail-on-stateful-change"],
    )
    assert (same.exit_code, same.output) == (0, "prod: no changes\n")
    (tmp_path / "bad.json").write_text("{}")
    bad = runner.invoke(plandiff.app, [str(tmp_path / "bad.json"), str(base / "prod.json")])
    assert bad.exit_code == plandiff.EXIT_UNREADABLE and "no resources list" in bad.stderr


def test_the_readme_example_is_what_the_tool_prints_today(plans: dict) -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(
        r"<!-- plan-diff-example:start -->\n(.*?)<!-- plan-diff-example:end -->", readme, re.S
    )
    assert match, "README.md has no plan diff example"
    assert match.group(1) == diffexample.render(plans["prod"], plans["prod-changed"]), (
        "README.md's plan diff example is out of date: run `make docs`"
    )


def test_the_kubernetes_table_is_pulumi_kubernetes_own() -> None:
    """Each kind's replace-on-change fields equal pulumi-kubernetes' forceNew table (vendored
    diff.go), with its ConfigMap and Secret defaults and the metadata every kind shares."""
    source = (ROOT / "tests/upstream/pulumi-kubernetes/diff.go").read_text()
    for kind, paths in replacements.KUBERNETES.items():
        if kind in ("core/v1:Secret", "core/v1:ConfigMap"):
            continue
        upstream = {f.lstrip(".") for f in _go_fields(source, kind.rsplit(":", 1)[1])}
        assert upstream == set(paths), kind
    assert '".type", ".stringData", ".data"' in source
    assert '".binaryData", ".data"' in source
    assert 'metadataForceNewProperties(".metadata")' in source
    assert replacements.replacing_paths("kubernetes:core/v1:Service")[:2] == (
        "metadata.name",
        "metadata.namespace",
    )


# The kinds whose fields pulumi-kubernetes keeps in a variable of their own.
_GO_VARIABLES = {
    "StatefulSet": "statefulSet",
    "Deployment": "deployment",
    "DaemonSet": "daemonset",
    "Job": "job",
    "RoleBinding": "roleBinding",
    "ClusterRoleBinding": "roleBinding",
}


def _go_fields(source: str, kind: str) -> list[str]:
    """The fields pulumi-kubernetes lists for one kind; a label selector's own fields are
    covered by the selector's path."""
    if kind in _GO_VARIABLES:
        match = re.search(rf"^var {_GO_VARIABLES[kind]} = (.*?)\n\n", source, re.S | re.M)
    else:
        match = re.search(rf'"{kind}": (?:append\(\s*)?properties\{{(.*?)\}}', source, re.S)
    assert match, kind
    return re.findall(r'"(\.[A-Za-z.]+)"', match.group(1))


def _document(*resources: dict) -> dict:
    return {"stack": "s", "resources": list(resources), "cost": {}, "findings": []}


def _resource(type_: str, name: str, inputs: dict, **options: Any) -> dict:
    return {
        "type": type_,
        "name": name,
        "parent": None,
        "custom": True,
        "inputs": inputs,
        "options": {"protect": False, "retainOnDelete": False, **options},
        "secrets": {},
    }


POOL = "gcp:container/nodePool:NodePool"


def test_what_the_engine_ignores_is_no_change() -> None:
    """A node pool's initialNodeCount forces a new pool, but the platform ignores it (the
    autoscaler owns the size): only the name it hashes its settings into replaces it."""
    base = _resource(
        POOL, "p", {"name": "l4-1", "initialNodeCount": 0}, ignoreChanges=["initialNodeCount"]
    )
    grown = _resource(
        POOL, "p", {"name": "l4-1", "initialNodeCount": 1}, ignoreChanges=["initialNodeCount"]
    )
    assert diffplan.diff(_document(base), _document(grown)).unchanged
    renamed = _resource(
        POOL, "p", {"name": "l4-2", "initialNodeCount": 1}, ignoreChanges=["initialNodeCount"]
    )
    (change,) = diffplan.diff(_document(base), _document(renamed)).changes
    assert change.action == "replace"
    assert [p.path for p in change.properties if p.replaces] == ["name"]


def test_a_reordered_list_and_a_wildcard_replace_on_changes() -> None:
    job = "kubernetes:batch/v1:Job"
    containers = [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]
    spec = {"metadata": {"name": "j"}, "extra": {"containers": containers}}
    moved = {"metadata": {"name": "j"}, "extra": {"containers": containers[::-1]}}
    (change,) = diffplan.diff(
        _document(_resource(job, "j", spec)), _document(_resource(job, "j", moved))
    ).changes
    (order,) = change.properties
    assert (order.path, order.before, order.after) == (
        "extra.containers (order)",
        ["name=a", "name=b"],
        ["name=b", "name=a"],
    )
    # replaceOnChanges with a wildcard position covers every item.
    bumped = copy.deepcopy(spec)
    bumped["extra"]["containers"][1]["image"] = "y:2"
    option = {"replaceOnChanges": ["extra.containers[*].image"]}
    (change,) = diffplan.diff(
        _document(_resource(job, "j", spec, **option)),
        _document(_resource(job, "j", bumped, **option)),
    ).changes
    assert change.action == "replace"


def test_protected_and_retained_deletions_say_so() -> None:
    bucket = "aws:s3/bucket:Bucket"
    protected = _resource(bucket, "kept", {}, protect=True)
    retained = _resource(bucket, "left", {}, retainOnDelete=True)
    diff = diffplan.diff(_document(protected, retained), _document())
    by_name = {c.name: c for c in diff.changes}
    assert by_name["kept"].destructive and by_name["kept"].protected
    assert not by_name["left"].destructive, "the cloud keeps a resource retained on delete"
    text = diffreport.render_text([diff])
    assert "kept (protected: `pulumi up` refuses" in text
    assert "left (retained on delete" in text
