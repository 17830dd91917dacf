"""Image pull on new GPU nodes: EKS launch templates turn on nodeadm's FastImagePull with the
volume throughput it needs, as the vendored amazon-eks-ami sources define it; GKE pools stream
images from the stack's Docker Hub cache in Artifact Registry, and the servers pull from it."""

from __future__ import annotations

import base64
import email
import email.policy
import re

import pytest
import yaml
from harness import ROOT, planned, recorded
from upstream_checks import crd_errors

from gpu_platform import catalog, image_pull, versions
from gpu_platform.gcp import cluster as gke_cluster
from gpu_platform.gcp import image_cache

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_POOL = "gcp:container/nodePool:NodePool"
EKS_AMI = ROOT / "tests/upstream/eks-ami"
DIGEST = "sha256:" + "a" * 64


def _parts(user_data: str) -> list[email.message.Message]:
    """The MIME parts of a launch template's user data, as cloud-init and nodeadm read them."""
    message = email.message_from_bytes(base64.b64decode(user_data), policy=email.policy.default)
    assert message.get_content_type() == "multipart/mixed"
    return [part for part in message.walk() if not part.is_multipart()]


def test_gpu_launch_templates_turn_on_parallel_pull_and_give_the_volume_its_throughput() -> None:
    prod = recorded("prod")
    templates = {t.name: t.inputs for t in prod.of_type(LAUNCH_TEMPLATE)}
    gpu = {name: t for name, t in templates.items() if name != "prod-cluster-system"}
    assert gpu
    for template in gpu.values():
        (part,) = _parts(template["userData"])
        assert part.get_content_type() == image_pull.NODECONFIG_CONTENT_TYPE
        node_config = yaml.safe_load(part.get_content())
        assert node_config["spec"] == {"featureGates": {"FastImagePull": True}}
        assert crd_errors(node_config, "node.eks.aws_nodeconfigs.yaml") == []
        (volume,) = template["blockDeviceMappings"]
        ebs = volume["ebs"]
        assert ebs["throughput"] == 600
        # gp3 allows 0.25 MiB/s of throughput per provisioned IOPS.
        assert ebs["throughput"] <= ebs["iops"] / 4
    # System nodes pull small images: no feature gate, the volume's former throughput.
    system = templates["prod-cluster-system"]
    assert "userData" not in system
    assert system["blockDeviceMappings"][0]["ebs"]["throughput"] == 250


def test_the_feature_gate_and_its_thresholds_are_nodeadms() -> None:
    """The gate is a Feature of the pinned AMI release's nodeadm, which applies it from 4 vCPUs
    and 7 GiB: every AWS GPU type of the catalog qualifies, so every GPU pool pulls in parallel
    (the cold-start estimate assumes it)."""
    types = (EKS_AMI / "nodeconfig_types.go").read_text()
    assert re.search(r'^\s*FastImagePull Feature = "FastImagePull"$', types, re.MULTILINE)
    config = (EKS_AMI / "containerd_config.go").read_text()
    memory, millicores = re.search(
        r"totalMemory >= (\d+)\*gibibyte && totalCPUMillicores >= (\d+)", config
    ).groups()
    assert (int(memory), int(millicores)) == (
        image_pull.FAST_PULL_MIN_MEMORY_GIB,
        image_pull.FAST_PULL_MIN_MILLICORES,
    )
    aws = [m for m in catalog.MACHINE_TYPES.values() if m.cloud == "aws"]
    assert aws and all(
        m.vcpus * 1000 >= image_pull.FAST_PULL_MIN_MILLICORES
        and m.memory_gib >= image_pull.FAST_PULL_MIN_MEMORY_GIB
        for m in aws
    )


def test_gke_pools_stream_images_from_the_stacks_docker_hub_cache() -> None:
    gke = recorded("gcp-dev")
    repository = gke.one("gcp:artifactregistry/repository:Repository").inputs
    assert (repository["format"], repository["mode"]) == ("DOCKER", "REMOTE_REPOSITORY")
    assert repository["remoteRepositoryConfig"]["dockerRepository"] == {
        "publicRepository": "DOCKER_HUB"
    }
    assert repository["location"] == "us-central1"
    services = {s.inputs["service"]: s for s in gke.of_type("gcp:projects/service:Service")}
    assert set(services) >= set(image_cache.SERVICES)
    assert all(s.inputs["disableOnDestroy"] is False for s in services.values())
    cache = gke.one("gcp:artifactregistry/repository:Repository").key
    for pool in gke.of_type(NODE_POOL):
        if pool.name == "gcp-dev-cluster-system":
            continue
        assert pool.inputs["nodeConfig"]["gcfsConfig"] == {"enabled": True}
        assert pool.inputs["nodeConfig"]["imageType"] == "COS_CONTAINERD"
        assert cache in pool.options["dependsOn"]
    # Servers and mirror Jobs pull the pinned image, same tag and digest, through the cache.
    cached = (
        f"us-central1-docker.pkg.dev/{repository['project']}/{repository['repositoryId']}/"
        f"{versions.VLLM_IMAGE}"
    )
    images = {
        r.name: r.inputs["spec"]["template"]["spec"]["containers"][0]["image"]
        for r in [
            *gke.of_type("kubernetes:apps/v1:StatefulSet"),
            *gke.of_type("kubernetes:batch/v1:Job"),
        ]
        if "vllm" in r.inputs["spec"]["template"]["spec"]["containers"][0]["image"]
    }
    assert images and set(images.values()) == {cached}


def test_turning_on_image_streaming_keeps_the_node_pools() -> None:
    """GKE updates gcfsConfig in place (the Google provider marks it updatable): it is not
    part of the settings whose change names a new pool."""
    assert "gcfs_config" in gke_cluster.IN_PLACE_NODE_SETTINGS
    config = {"machine_type": "g2-standard-4", "labels": {}}
    assert gke_cluster.render_pool_name("p", config) == gke_cluster.render_pool_name(
        "p", {**config, "gcfs_config": {"enabled": True}}
    )


@pytest.mark.parametrize(
    ("image", "path"),
    [
        (versions.VLLM_IMAGE, versions.VLLM_IMAGE),
        ("docker.io/vllm/vllm-openai:v1", "vllm/vllm-openai:v1"),
        ("nginx:1.27", "library/nginx:1.27"),
        (
            "index.docker.io/library/busybox@sha256:" + "a" * 64,
            "library/busybox@sha256:" + "a" * 64,
        ),
        ("ghcr.io/org/server:1", None),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/vllm:1", None),
        ("localhost:5000/vllm:1", None),
        ("us-docker.pkg.dev/p/r/vllm:1", None),
    ],
)
def test_only_docker_hub_images_go_through_the_cache(image: str, path: str | None) -> None:
    assert image_pull.docker_hub_path(image) == path
    cached = image_pull.cached_image(image, region="europe-west4", project="p", repository="r")
    assert cached == (image if path is None else f"europe-west4-docker.pkg.dev/p/r/{path}")


def test_eks_starts_pull_in_parallel_and_gke_starts_stream() -> None:
    aws = next(s for s in planned("prod").cold_starts if s.model == "qwen-7b")
    gke = next(s for s in planned("gcp-dev").cold_starts if s.model == "qwen-7b")
    assert aws.cold.image_seconds == 56  # 10 GB at 180 MB/s
    assert gke.cold.image_seconds == 60
    assert aws.warm.image_seconds == gke.warm.image_seconds == 0
