"""Container image references anywhere in a resource's inputs (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

DIGEST = "@sha256:"


def images(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every container image reference in a resource's inputs, with where it is. An `image`
    beside a `version` is the split form the GPU Operator's ClusterPolicy and many charts use
    (`repository`/`image`:`version`); an `image` map with a `tag` or `digest` is the form most
    charts' values use (`registry`, `repository`, `tag`, `digest`). A map with
    `enabled: false` is a component that is not installed. Maps and lists are read through
    their abstract types: the pack's inputs are pulumi-policy's proxies, which raise on a value
    only known at deploy (the policy then does not apply to that resource in a preview)."""
    if isinstance(value, Mapping):
        if value.get("enabled") is False:
            return  # a disabled component installs nothing
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "image" and isinstance(item, str):
                split = "version" in value and "@" not in item and ":" not in item.rsplit("/")[-1]
                yield where, _joined(value) if split else item
            elif key == "image" and isinstance(item, Mapping) and ({"tag", "digest"} & set(item)):
                yield where, _from_map(item)
            else:
                yield from images(item, where)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index, item in enumerate(value):
            yield from images(item, f"{path}[{index}]")


def _joined(split: Mapping) -> str:
    repository = str(split.get("repository") or "").rstrip("/")
    image = f"{repository}/{split['image']}" if repository else split["image"]
    version = str(split.get("version") or "")
    return f"{image}@{version}" if version.startswith("sha256:") else f"{image}:{version}"


def _from_map(image: Mapping) -> str:
    """A values-style image map; without a repository it is the chart's own image."""
    parts = [str(image[k]).strip("/") for k in ("registry", "repository") if image.get(k)]
    name = "/".join(parts) or "<the chart's image>"
    digest = str(image.get("digest") or "")
    return f"{name}@{digest}" if digest else f"{name}:{image.get('tag') or ''}"


def unpinned(image: str) -> bool:
    """No tag and no digest, or the `latest` tag."""
    name, _, tag = image.rpartition(":")
    untagged = DIGEST not in image and (not name or not tag or "/" in tag)
    return untagged or tag == "latest"


def is_vllm(image: str) -> bool:
    """vLLM's server image, from Docker Hub or through a mirror or cache of it."""
    return "vllm/vllm-openai" in image.split("@", 1)[0]
