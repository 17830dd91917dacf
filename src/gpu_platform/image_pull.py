"""How a new GPU node gets the multi-GB vLLM image quickly (pure data).

- EKS: nodeadm's `FastImagePull` feature gate (AL2023 EKS AMIs since v20250821) switches
  containerd to the SOCI snapshotter's parallel pull and unpack mode: layers are downloaded in
  16 MB chunks, 20 at a time, and unpacked 12 at a time. It needs no change to the image or the
  registry, works with managed node groups (the gate is a NodeConfig in the launch template's
  user data, which EKS merges with its own), and nodeadm applies it only on nodes with at least
  4 vCPUs and 7 GiB of memory, which every GPU instance has. nodeadm's documentation asks for a
  root volume of at least 600 MiB/s. Chosen over a cached EBS snapshot (a custom AMI per
  release, which managed node groups' pinned AMI releases exclude) and ECR pull-through cache
  (Docker Hub upstreams need stored Docker Hub credentials).
- GKE: image streaming (`gcfsConfig`, COS with containerd): the container starts after a few
  seconds while its files stream on first read. It needs the image in Artifact Registry, so
  Docker Hub images go through a remote repository of the stack (gpu_platform/gcp/image_cache.py)
  that also keeps Docker Hub's rate limits off the nodes. Chosen over secondary boot disks
  with preloaded images, which need a disk image built outside Pulumi for every vLLM release.
"""

from __future__ import annotations

import email.encoders
import email.mime.application
import email.mime.multipart
import email.policy
from typing import Literal

import yaml

from gpu_platform.catalog import Cloud

Method = Literal["parallel", "streaming"]

# nodeadm enables the SOCI snapshotter only at or above these (internal/containerd/config.go,
# UseSOCISnapshotter; vendored in tests/upstream/eks-ami); every GPU instance type of the
# catalog has more (tests/test_image_pull.py).
FAST_PULL_MIN_MILLICORES = 4000
FAST_PULL_MIN_MEMORY_GIB = 7
# The root volume's throughput with parallel pull: nodeadm's documentation recommends at least
# 600 MiB/s ("Enabling fast image pull", nodeadm/doc/examples.md); gp3 allows it from 2,400
# IOPS (0.25 MiB/s per IOPS), below the 3,000 the platform provisions.
FAST_PULL_THROUGHPUT_MIBPS = 600
DEFAULT_THROUGHPUT_MIBPS = 250
NODECONFIG_CONTENT_TYPE = "application/node.eks.aws"
BOUNDARY = "==gpu-platform=="
DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")


def method(cloud: Cloud) -> Method:
    """How GPU nodes pull images: in parallel (EKS), streamed (GKE)."""
    return "streaming" if cloud == "gcp" else "parallel"


def render_node_config() -> dict:
    """The NodeConfig that turns on parallel pull; EKS adds the cluster's own."""
    return {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {"featureGates": {"FastImagePull": True}},
    }


def render_user_data() -> str:
    """The launch template's user data: a MIME multi-part document (the form managed node
    groups accept) with the NodeConfig as its one part."""
    document = email.mime.multipart.MIMEMultipart("mixed", boundary=BOUNDARY)
    part = email.mime.application.MIMEApplication(
        yaml.safe_dump(render_node_config(), sort_keys=False),
        NODECONFIG_CONTENT_TYPE.split("/", 1)[1],
        _encoder=email.encoders.encode_7or8bit,
    )
    document.attach(part)
    return document.as_string(policy=email.policy.SMTP.clone(linesep="\n"))


def docker_hub_path(image: str) -> str | None:
    """`org/name:tag@digest` of an image on Docker Hub (official images under `library/`);
    None for an image in another registry."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        if first not in DOCKER_HUB:
            return None
        image = rest
    return image if "/" in image.split("@", 1)[0].split(":", 1)[0] else f"library/{image}"


def cached_image(image: str, *, region: str, project: str, repository: str) -> str:
    """Where a GKE node pulls `image` from: a Docker Hub image through the stack's remote
    repository in Artifact Registry (same tag and digest), any other image as it is."""
    path = docker_hub_path(image)
    if path is None:
        return image
    return f"{region}-docker.pkg.dev/{project}/{repository}/{path}"
