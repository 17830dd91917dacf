"""The platform's label, tag and taint vocabulary, in one place.

Cloud resources carry the same ownership tags on both clouds; AWS tag keys may contain `/` and
`.`, GCP label keys may not, so the GCP form swaps them for `_`.
"""

from __future__ import annotations

from components.catalog import Cloud

DOMAIN = "gpuplatform.io"


def cloud_tags(cloud: Cloud, *, environment: str, stack: str, project: str) -> dict[str, str]:
    """Tags (AWS) or labels (GCP) that every cloud resource of a stack carries."""
    tags = {
        f"{DOMAIN}/environment": environment,
        f"{DOMAIN}/stack": stack,
        f"{DOMAIN}/project": project,
        f"{DOMAIN}/managed-by": "pulumi",
    }
    if cloud == "aws":
        return tags
    return {_gcp_label_key(key): value for key, value in tags.items()}


def _gcp_label_key(key: str) -> str:
    # GCP label keys: lowercase letters, digits, '_' and '-' only.
    return key.replace(".", "_").replace("/", "_")
