"""GkeImageCache: what GKE image streaming needs for Docker Hub images (gpu_platform/image_pull.py).

- the Container File System API (image streaming) and the Artifact Registry API, enabled and
  left enabled on destroy (other workloads of the project may use them);
- an Artifact Registry remote repository of Docker Hub in the cluster's region. A node pulls
  `<region>-docker.pkg.dev/<project>/<repository>/vllm/vllm-openai:<tag>@<digest>`: the same
  manifest, fetched from Docker Hub once and then served from the cache, streamed to nodes with
  `gcfsConfig` and never subject to Docker Hub's pull limits. The nodes' service account reads
  it through its project-wide `roles/artifactregistry.reader` (gpu_platform/gcp/cluster.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from gpu_platform.options import child_of

TOKEN = "gpuplatform:gcp:GkeImageCache"
SERVICES = ("artifactregistry.googleapis.com", "containerfilesystem.googleapis.com")


def repository_id(cluster_name: str) -> str:
    """One repository per cluster (stacks sharing a project do not collide)."""
    return f"{cluster_name}-docker-hub"[:63].rstrip("-")


def render_repository(cluster_name: str, region: str, project: str) -> dict:
    """Keyword arguments of the `gcp.artifactregistry.Repository`."""
    return {
        "repository_id": repository_id(cluster_name),
        "project": project,
        "location": region,
        "format": "DOCKER",
        "mode": "REMOTE_REPOSITORY",
        "description": f"Docker Hub images for the GKE nodes of {cluster_name} (image streaming)",
        "remote_repository_config": {
            "description": "Docker Hub",
            "docker_repository": {"public_repository": "DOCKER_HUB"},
        },
    }


@dataclass(frozen=True)
class GkeImageCacheArgs:
    cluster_name: str
    region: str
    project: str
    provider: pulumi.ProviderResource


class GkeImageCache(pulumi.ComponentResource):
    """The APIs and the Docker Hub remote repository of one cluster."""

    repository_id: str
    ready: list[pulumi.Resource]
    """Enabled APIs and the repository: node pools and image pulls wait for them."""

    def __init__(
        self, name: str, args: GkeImageCacheArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TOKEN, name, None, opts)
        services = [
            gcp.projects.Service(
                f"{name}-{service.split('.', 1)[0]}",
                project=args.project,
                service=service,
                disable_on_destroy=False,
                opts=child_of(self, args.provider),
            )
            for service in SERVICES
        ]
        repository = gcp.artifactregistry.Repository(
            f"{name}-docker-hub",
            **render_repository(args.cluster_name, args.region, args.project),
            opts=child_of(self, args.provider, services),
        )
        self.repository_id = repository_id(args.cluster_name)
        self.ready = [*services, repository]
        self.register_outputs({"repository": repository.name})
