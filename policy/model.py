"""What the platform's policy rules look at: resources as Pulumi registers them, and the stack.

Both runners build these from their own inputs: the offline plan from the mock engine's
registrations (tools/findings.py), the CrossGuard pack from pulumi-policy's validation
arguments (policy/pack.py). The rules never see either runner's types. Standard library only,
so the pack's virtualenv needs nothing but pulumi-policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Enforcement = Literal["mandatory", "advisory"]


class Unknown(dict):
    """A value only known at deploy time (an Output in a preview). It reads as an empty map, so
    a rule walking the inputs passes over it; a rule that would judge a missing value checks
    `known()` first and leaves an unknown one alone."""

    def __repr__(self) -> str:
        return "<unknown>"


def known(*values: Any) -> bool:
    return not any(isinstance(v, Unknown) for v in values)


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    inputs: Mapping[str, Any]
    protect: bool = False

    @property
    def key(self) -> str:
        """`<type>::<name>`, as the offline plan names resources."""
        return f"{self.type}::{self.name}"

    @property
    def kubernetes_kind(self) -> str | None:
        """`StatefulSet` for `kubernetes:apps/v1:StatefulSet`; None for other providers."""
        if not self.type.startswith("kubernetes:"):
            return None
        return self.type.rsplit(":", 1)[-1]

    def pod_spec(self) -> Mapping[str, Any] | None:
        """The pod spec of a Kubernetes workload (a CronJob's job template's too)."""
        kind = self.kubernetes_kind
        if kind not in WORKLOAD_KINDS:
            return None
        spec = self.inputs.get("spec") or {}
        if kind == "Pod":
            return spec
        if kind == "CronJob":
            spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        return (spec.get("template") or {}).get("spec") or {}

    def containers(self) -> Iterator[Mapping[str, Any]]:
        """Every container and init container of a workload."""
        spec = self.pod_spec() or {}
        yield from spec.get("initContainers") or []
        yield from spec.get("containers") or []


@dataclass(frozen=True)
class Stack:
    """What a rule may know about the stack besides its resources."""

    production: bool


@dataclass(frozen=True)
class Violation:
    resource: Resource | None
    message: str


ResourceCheck = Callable[[Resource, Stack], Iterable[str]]
StackCheck = Callable[[Sequence[Resource], Stack], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    """One rule; exactly one of `check_resource` (each resource alone) and `check_stack` (all
    resources at once) is set."""

    name: str
    description: str
    enforcement: Enforcement
    check_resource: ResourceCheck | None = None
    check_stack: StackCheck | None = None

    def violations(self, resources: Sequence[Resource], stack: Stack) -> list[Violation]:
        if self.check_stack is not None:
            return list(self.check_stack(resources, stack))
        assert self.check_resource is not None
        return [
            Violation(r, message) for r in resources for message in self.check_resource(r, stack)
        ]
