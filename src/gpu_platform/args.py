"""What the public components share at their boundary: typed args (TypedDicts whose fields
Pulumi's component analyzer turns into a schema for every language) checked at construction,
with one message per problem naming the key as every language spells it (camelCase)."""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import pulumi
from pulumi.provider.experimental import host
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from gpu_platform import k8s_versions, labels
from gpu_platform.addons.spec import CHART_VERSION, CHART_VERSION_RULE
from gpu_platform.catalog import Cloud
from gpu_platform.errors import format_errors, format_path
from gpu_platform.labels import MigStrategy
from gpu_platform.pool_rules import cloud_problems
from gpu_platform.pools import POOL_NAME_PATTERN, NodePoolSpec

S = TypeVar("S", bound=BaseModel)
MIG_STRATEGIES = ("none", "single", "mixed")


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


def _camel(segment: str) -> str:
    """`node_pools[1]` -> `nodePools[1]`: args arrive by field name, every language's schema
    spells them in camelCase (a name already in camelCase stays as it is)."""
    name, bracket, rest = segment.partition("[")
    return (to_camel(name) if "_" in name else name) + bracket + rest


def _key(key: str, path: str, renamed: Mapping[str, str] | None = None) -> str:
    segments = [_camel(segment) for segment in path.split(".")] if path else []
    for index, segment in enumerate(segments):
        name, bracket, rest = segment.partition("[")
        segments[index] = (renamed or {}).get(name, name) + bracket + rest
    return ".".join([key, *segments])


@functools.cache
def _renamed(spec: type[BaseModel]) -> dict[str, str]:
    """The stack config's keys that the schema spells differently (`diskGiB` is `diskGib` in
    every language's args: the analyzer camel-cases the field name `disk_gib`)."""
    found: dict[str, str] = {}
    pending, seen = [spec], set()
    while pending:
        model = pending.pop()
        seen.add(model)
        for name, field in model.model_fields.items():
            if field.alias and field.alias != to_camel(name):
                found[field.alias] = to_camel(name)
            for inner in (field.annotation, *typing.get_args(field.annotation)):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in seen:
                    pending.append(inner)
    return found


def required(component: str, args: Mapping[str, Any], keys: Iterable[str]) -> None:
    """Every required key is there (a TypedDict does not check at run time)."""
    check(component, [(_camel(k), "required") for k in keys if args.get(k) is None])


def spec_key(key: str, path: tuple[str | int, ...], spec: type[BaseModel]) -> str:
    """A problem's path in a spec, as the args of every language name it under `key`."""
    return _key(key, format_path(path) if path else "", _renamed(spec))


def from_args(component: str, key: str, spec: type[S], value: Any) -> S:
    """A spec from its args (by field name), its problems named `<key>.<setting>`."""
    if not isinstance(value, Mapping):
        raise ArgsError(component, [(key, "expected a map of settings")])
    try:
        return spec.model_validate(dict(value), by_name=True)
    except ValidationError as error:
        found, renamed = [], _renamed(spec)
        for line in format_errors(error, spec):
            path, _, message = line.partition(": ")
            found.append((_key(key, path, renamed), message))
        raise ArgsError(component, found) from None


def pool_spec(
    component: str,
    pool: Any,
    cloud: Cloud,
    kubernetes_version: str,
    key: str = "pool",
    cluster_zones: tuple[str, ...] | None = None,
) -> NodePoolSpec:
    """A pool's args as the spec the stack config holds, checked by the same rules (on its own,
    on the cloud, against the Kubernetes version and, when known, the cluster's zones);
    problems name `<key>.<setting>`."""
    spec = from_args(component, key, NodePoolSpec, pool)
    zones = cluster_zones if cluster_zones is not None else spec.zones or ()
    problems = [
        p
        for p in cloud_problems(cloud, tuple(zones), kubernetes_version, spec)
        # Unknown cluster zones: a pool's zone rules cannot be judged (a reserved pool may
        # rely on the cluster's one zone).
        if cluster_zones is not None or spec.zones or p.path[:1] != ("zones",)
    ]
    check(component, [(spec_key(key, p.path, NodePoolSpec), p.message) for p in problems])
    return spec


def mig_strategy(component: str, given: Any, pools: Mapping[str, NodePoolSpec]) -> MigStrategy:
    """The cluster's MIG strategy: required when a pool uses MIG (it depends on every MIG
    pool of the cluster, which one component may not see), and enough for the pools given."""
    needed = labels.mig_strategy(pools)
    if given is None:
        if any(p.sharing.mode == "mig" for p in pools.values()):
            raise ArgsError(
                component,
                [("migStrategy", "a pool uses MIG: give the cluster's (single or mixed)")],
            )
        return needed
    if given not in MIG_STRATEGIES:
        raise ArgsError(component, [("migStrategy", f"{given!r} is not none, single or mixed")])
    if (needed == "mixed" and given != "mixed") or (needed == "single" and given == "none"):
        raise ArgsError(component, [("migStrategy", f"the pools need {needed}, not {given}")])
    return given


_POOL_NAME = re.compile(POOL_NAME_PATTERN)


def pool_name_problems(name: Any) -> list[tuple[str, str]]:
    """The problem with a pool's name (its nodes' label, its cloud name's prefix), if any."""
    if _POOL_NAME.fullmatch(str(name or "")):
        return []
    return [("poolName", "lowercase letters, digits and '-', at most 31 characters")]


def chart_version_problems(version: Any) -> list[tuple[str, str]]:
    """The problem with a `chart_version` override, by the stack config's own rule."""
    if version is None or CHART_VERSION.fullmatch(str(version)):
        return []
    return [("chartVersion", f"{version!r} is {CHART_VERSION_RULE}")]


def supported_version(version: Any) -> list[tuple[str, str]]:
    """The problem with a `kubernetes_version` that is not a supported minor, if any."""
    if version in k8s_versions.SUPPORTED:
        return []
    return [("kubernetesVersion", f"{version!r} is not one of {', '.join(k8s_versions.SUPPORTED)}")]


def component_type(token: str, name: str) -> str:
    """The type a public component registers: its own token in a Python program (its URNs in
    existing stacks), `gpu-platform:index:<Class>` when Pulumi's component provider host serves
    it to another language (the schema's type)."""
    return f"gpu-platform:index:{name}" if host.is_hosting else token


def pool_args(spec: NodePoolSpec) -> dict[str, Any]:
    """A pool spec as the public components' args (field names, unset keys left out)."""
    return spec.model_dump(exclude_none=True)
