"""The scheduling vocabulary: taints, tolerations, labels and advertised GPU resources."""

from __future__ import annotations

import json
from typing import Any

from harness import recorded
from hypothesis import given
from hypothesis import strategies as st

from gpu_platform import catalog, kubeconfig, labels
from gpu_platform.aws.node_pool import render_taints as eks_taints
from gpu_platform.gcp.node_pool import render_taints as gke_taints
from gpu_platform.pools import NodePoolSpec


@st.composite
def pools(draw: st.DrawFn) -> tuple[str, NodePoolSpec]:
    cloud = draw(st.sampled_from(catalog.CLOUDS))
    gpu = draw(st.sampled_from(catalog.GPU_KEYS))
    count = draw(st.sampled_from(catalog.gpu_counts(cloud, gpu)))
    sold = [
        kind
        for kind in catalog.CAPACITY_BY_CLOUD[cloud]
        if any(m.sold_as(kind) for m in catalog.machine_types(cloud, gpu, count))
    ]
    capacity = draw(st.sampled_from(sold))
    modes = ["none", "time-slicing"] + (["mig"] if catalog.gpu(gpu).supports_mig else [])
    mode = draw(st.sampled_from(modes))
    sharing: dict[str, Any] = {"mode": mode}
    if mode == "mig":
        profiles = (
            catalog.GKE_PARTITION_SIZES[gpu]
            if cloud == "gcp"
            else [p.name for p in catalog.gpu(gpu).mig_profiles]
        )
        sharing["migProfile"] = draw(st.sampled_from(profiles))
    if mode == "time-slicing":
        sharing["replicas"] = draw(st.integers(2, 16))
    raw = {
        "gpu": gpu,
        "gpusPerNode": count,
        "capacity": capacity,
        "maxNodes": draw(st.integers(1, 10)),
        "workload": draw(st.sampled_from(["inference", "batch"])),
        "sharing": sharing,
    }
    if capacity in ("reserved", "capacity-block"):
        raw["reservation"] = "cr-0123456789abcdef0" if cloud == "aws" else "r1"
    return cloud, NodePoolSpec.model_validate(raw)


@given(pools())
def test_every_taint_of_a_pool_is_tolerated_by_its_workloads(case: tuple) -> None:
    cloud, pool = case
    taints = labels.pool_taints(cloud, pool)
    tolerations = labels.tolerations(taints)
    for taint in taints:
        assert any(labels.tolerates(t, taint) for t in tolerations), taint
    # What the node pool actually renders is covered by the same taints.
    rendered = eks_taints(pool) if cloud == "aws" else gke_taints(pool)
    for item in rendered:
        assert any(t.key == item["key"] and t.value == item["value"] for t in taints)
    assert len(rendered) == len([t for t in taints if not t.set_by_cloud])


@given(pools())
def test_spot_taint_exactly_on_spot_pools(case: tuple) -> None:
    cloud, pool = case
    keys = {t.key for t in labels.pool_taints(cloud, pool)}
    assert labels.GPU_TAINT_KEY in keys
    assert (labels.SPOT_TAINT_KEY in keys) == (pool.capacity == "spot")


def test_one_gpu_toleration_covers_both_clouds() -> None:
    pool = NodePoolSpec.model_validate(
        {"gpu": "l4", "gpusPerNode": 1, "capacity": "on-demand", "maxNodes": 1}
    )
    eks = labels.pool_taints("aws", pool)
    gke = labels.pool_taints("gcp", pool)
    toleration = labels.tolerations(eks)[0]
    assert labels.tolerates(toleration, eks[0]) and labels.tolerates(toleration, gke[0])
    assert not labels.tolerates({"key": "other", "operator": "Exists"}, eks[0])
    spot = labels.Taint(labels.SPOT_TAINT_KEY, "true")
    assert not labels.tolerates(
        {"key": labels.SPOT_TAINT_KEY, "operator": "Equal", "value": "false"}, spot
    )


def _pool(**overrides: Any) -> NodePoolSpec:
    raw = {"gpu": "a100-80gb", "gpusPerNode": 8, "capacity": "on-demand", "maxNodes": 1}
    return NodePoolSpec.model_validate({**raw, **overrides})


def test_advertised_resources() -> None:
    plain = _pool()
    mig = _pool(sharing={"mode": "mig", "migProfile": "1g.10gb"})
    shared = _pool(sharing={"mode": "time-slicing", "replicas": 3})
    assert labels.advertised_resources("aws", plain, "none") == {"nvidia.com/gpu": 8}
    assert labels.advertised_resources("aws", mig, "mixed") == {"nvidia.com/mig-1g.10gb": 56}
    assert labels.advertised_resources("aws", mig, "single") == {"nvidia.com/gpu": 56}
    assert labels.advertised_resources("gcp", mig, "mixed") == {"nvidia.com/gpu": 56}
    assert labels.advertised_resources("aws", shared, "none") == {"nvidia.com/gpu": 24}


def test_mig_strategy() -> None:
    one = {"a": _pool(sharing={"mode": "mig", "migProfile": "3g.40gb"}), "b": _pool()}
    two = {**one, "c": _pool(sharing={"mode": "mig", "migProfile": "1g.10gb"})}
    assert labels.mig_strategy({"b": _pool()}) == "none"
    assert labels.mig_strategy(one) == "single"
    assert labels.mig_strategy(two) == "mixed"


def test_labels_are_valid_kubernetes_labels() -> None:
    recording = recorded("prod")
    for group in recording.of_type("aws:eks/nodeGroup:NodeGroup"):
        for key, value in group.inputs["labels"].items():
            name = key.rpartition("/")[2]
            assert len(name) <= 63 and len(value) <= 63
            assert value.replace("-", "").replace(".", "").replace("_", "").isalnum()


def test_kubeconfigs_use_exec_plugins_and_carry_no_token() -> None:
    eks = json.loads(
        kubeconfig.render_eks("gp", "https://x.eks.amazonaws.com", "Q0E=", "us-east-1")
    )
    user = eks["users"][0]["user"]
    assert set(user) == {"exec"}
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "gp",
        "--region",
        "us-east-1",
    ]
    gke = json.loads(kubeconfig.render_gke("gp", "203.0.113.1", "Q0E="))
    assert gke["clusters"][0]["cluster"]["server"] == "https://203.0.113.1"
    assert gke["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
