"""Changing a node pool never takes its models down: every EKS node group and GKE node pool is
replaced create-before-delete, and a change to one pool touches that pool only.

Pulumi replaces create-before-delete unless the resource asks otherwise: through the
deleteBeforeReplace option, or through its provider when a replacement would reuse a name the
user fixed (the new resource could not be created beside the old one). So a pool is safe when
its options do not ask for delete-first and its name changes whenever it is replaced: EKS node
groups carry only a name prefix, GKE node pools a name suffix derived from the settings that
force replacement.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from harness import platform_config, recorded, run_main

from tools.mockengine import Recording

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NODE_POOL = "gcp:container/nodePool:NodePool"


def _by_name(recording: Recording, type_: str) -> dict[str, dict[str, Any]]:
    return {r.name: r.inputs for r in recording.of_type(type_)}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_eks_node_group_is_replaced_create_before_delete(stack: str) -> None:
    groups = recorded(stack).of_type(NODE_GROUP)
    pools = set(platform_config(stack)["nodePools"]) | {"system"}
    assert {g.inputs["nodeGroupNamePrefix"].removesuffix("-") for g in groups} == pools
    for group in groups:
        assert "nodeGroupName" not in group.inputs, group.name
        assert group.options["deleteBeforeReplace"] is False, group.name


def test_every_gke_node_pool_is_replaced_create_before_delete() -> None:
    node_pools = recorded("gcp-dev").of_type(NODE_POOL)
    pools = set(platform_config("gcp-dev")["nodePools"]) | {"system"}
    names = {p.inputs["name"] for p in node_pools}
    assert {re.sub(r"-[0-9a-f]{6}$", "", n) for n in names} == pools
    for pool in node_pools:
        assert re.fullmatch(r"[a-z][-a-z0-9]{0,38}[a-z0-9]", pool.inputs["name"]), "GKE: 40"
        assert pool.options["deleteBeforeReplace"] is False, pool.name


def test_changing_one_eks_pools_instance_types_changes_only_that_pool() -> None:
    before = _by_name(recorded("dev"), NODE_GROUP)
    config = platform_config("dev")
    config["nodePools"]["l4-spot"]["instanceTypes"] = ["g6.2xlarge"]
    after = _by_name(run_main(config, stack="dev"), NODE_GROUP)
    assert set(after) == set(before), "no resource is renamed (same URNs)"
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"dev-l4-spot-ng"}
    assert after["dev-l4-spot-ng"]["instanceTypes"] == ["g6.2xlarge"]
    assert after["dev-l4-spot-ng"]["nodeGroupNamePrefix"] == "l4-spot-"


def test_a_replacing_gke_change_renames_only_that_pool_and_an_in_place_one_none() -> None:
    """One run with two changes: l4-spot's machine type (GKE replaces the pool: a new name, so
    it is created before the old one goes) and a100-mig's autoscaling bounds (updated in place:
    the name stays, nothing is replaced). No other pool changes."""
    before = _by_name(recorded("gcp-dev"), NODE_POOL)
    config = platform_config("gcp-dev")
    config["nodePools"]["l4-spot"]["instanceTypes"] = ["g2-standard-16"]
    config["nodePools"]["a100-mig"]["maxNodes"] = 6
    after = _by_name(run_main(config, stack="gcp-dev"), NODE_POOL)
    assert set(after) == set(before), "no resource is renamed (same URNs)"
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"gcp-dev-l4-spot-np", "gcp-dev-a100-mig-np"}
    old, new = before["gcp-dev-l4-spot-np"]["name"], after["gcp-dev-l4-spot-np"]["name"]
    assert old != new and new.startswith("l4-spot-"), "a new name: created before the old goes"
    in_place = after["gcp-dev-a100-mig-np"]
    assert in_place["autoscaling"]["totalMaxNodeCount"] == 6
    assert in_place["name"] == before["gcp-dev-a100-mig-np"]["name"]
