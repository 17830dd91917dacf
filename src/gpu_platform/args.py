"""What the public components share at their boundary: typed args (TypedDicts whose fields
Pulumi's component analyzer turns into a schema for every language) checked at construction,
with one message per problem naming the key as every language spells it (camelCase)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from gpu_platform.catalog import Cloud
from gpu_platform.errors import format_errors
from gpu_platform.pool_rules import ami_release_problems, cloud_problems
from gpu_platform.pools import NodePoolSpec

S = TypeVar("S", bound=BaseModel)


class ArgsError(ValueError):
    """Bad args of a component, raised before it creates anything."""

    def __init__(self, component: str, problems: Iterable[tuple[str, str]]):
        self.problems = [f"{component}.{key}: {message}" for key, message in problems]
        super().__init__("; ".join(self.problems))


def check(component: str, problems: list[tuple[str, str]]) -> None:
    """Raise ArgsError when there is any problem."""
    if problems:
        raise ArgsError(component, problems)


def depends_on(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    """The component's own `depends_on`, which its children need too (Pulumi does not pass a
    component's dependencies on to what it creates)."""
    found = opts.depends_on if opts is not None else None
    if found is None:
        return []
    return list(found) if isinstance(found, list | tuple) else [found]  # type: ignore[list-item]


def from_args(component: str, key: str, spec: type[S], value: Mapping[str, Any]) -> S:
    """A spec from its args (by field name), its problems named `<key>.<setting>`."""
    try:
        return spec.model_validate(dict(value), by_name=True)
    except ValidationError as error:
        found = []
        for line in format_errors(error, spec):
            path, _, message = line.partition(": ")
            # Args arrive by field name; every language's schema spells them in camelCase.
            found.append((".".join([key, *map(to_camel, path.split("."))]), message))
        raise ArgsError(component, found) from None


def pool_spec(
    component: str,
    pool: Mapping[str, Any],
    cloud: Cloud,
    kubernetes_version: str,
    key: str = "pool",
) -> NodePoolSpec:
    """A pool's args as the spec the stack config holds, checked by the same rules (on its own,
    on the cloud, against the Kubernetes version); problems name `<key>.<setting>`."""
    spec = from_args(component, key, NodePoolSpec, pool)
    problems = [
        *cloud_problems(cloud, spec.zones or (), kubernetes_version, spec),
        *ami_release_problems(cloud, kubernetes_version, spec.ami_release_version),
    ]
    check(component, [(".".join([key, *map(str, p.path)]), p.message) for p in problems])
    return spec


def pool_args(spec: NodePoolSpec) -> dict[str, Any]:
    """A pool spec as the public components' args (field names, unset keys left out)."""
    return spec.model_dump(exclude_none=True)
