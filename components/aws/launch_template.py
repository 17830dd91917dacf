"""Launch template settings shared by the system and GPU node groups (pure data).

IMDSv2 is required; the hop limit decides whether pods (one hop further than the node) can reach
instance metadata at all. The root volume is encrypted gp3, sized for multi-GB inference images.
"""

from __future__ import annotations

from typing import Any

ROOT_DEVICE = "/dev/xvda"  # AL2023 EKS AMIs boot from /dev/xvda
# Instance metadata answers the node itself and host-network pods (aws-node, kube-proxy, the Pod
# Identity agent) only; no other pod can borrow the node role. Add-ons and model servers that
# call AWS get roles of their own through EKS Pod Identity.
HOP_LIMIT = 1


def render_launch_template(*, disk_gib: int, tags: dict[str, str]) -> dict[str, Any]:
    """Keyword arguments for `aws.ec2.LaunchTemplate` common to every node group.

    `tags` go on the instances, volumes and network interfaces the template launches: provider
    default tags reach only the template itself, and node group tags are not copied to instances.
    """
    return {
        "tag_specifications": [
            {"resource_type": kind, "tags": dict(tags)}
            for kind in ("instance", "volume", "network-interface")
        ],
        "metadata_options": {
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": HOP_LIMIT,
            "instance_metadata_tags": "disabled",
        },
        "block_device_mappings": [
            {
                "device_name": ROOT_DEVICE,
                "ebs": {
                    "volume_size": disk_gib,
                    "volume_type": "gp3",
                    "iops": 3000,
                    "throughput": 250,
                    "encrypted": "true",
                    "delete_on_termination": "true",
                },
            }
        ],
        "monitoring": {"enabled": True},
    }
