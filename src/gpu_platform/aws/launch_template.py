"""Launch template settings shared by the system and GPU node groups (pure data).

IMDSv2 is required; the hop limit decides whether pods (one hop further than the node) can reach
instance metadata at all. The root volume is encrypted gp3, sized for multi-GB inference images;
nodes that pull images in parallel (gpu_platform/image_pull.py) get the user data turning it on
and the volume throughput it needs.
"""

from __future__ import annotations

import base64
from typing import Any

from gpu_platform import image_pull

ROOT_DEVICE = "/dev/xvda"  # AL2023 EKS AMIs boot from /dev/xvda
# Instance metadata answers the node itself and host-network pods (aws-node, kube-proxy, the Pod
# Identity agent) only; no other pod can borrow the node role. Add-ons and model servers that
# call AWS get roles of their own through EKS Pod Identity.
HOP_LIMIT = 1


def render_launch_template(
    *, disk_gib: int, tags: dict[str, str], fast_image_pull: bool = False
) -> dict[str, Any]:
    """Keyword arguments for `aws.ec2.LaunchTemplate` common to every node group.

    `tags` go on the instances, volumes and network interfaces the template launches: provider
    default tags reach only the template itself, and node group tags are not copied to instances.
    """
    throughput = (
        image_pull.FAST_PULL_THROUGHPUT_MIBPS
        if fast_image_pull
        else image_pull.DEFAULT_THROUGHPUT_MIBPS
    )
    template: dict[str, Any] = {
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
                    "throughput": throughput,
                    "encrypted": "true",
                    "delete_on_termination": "true",
                },
            }
        ],
        "monitoring": {"enabled": True},
    }
    if fast_image_pull:
        template["user_data"] = base64.b64encode(image_pull.render_user_data().encode()).decode()
    return template
