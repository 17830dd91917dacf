"""The CrossGuard policies: each rule of policy/rules.py as a pulumi-policy policy.

A rule that looks at one resource becomes a ResourceValidationPolicy, one that looks at the
whole stack a StackValidationPolicy; mandatory rules block `pulumi preview` and `pulumi up`,
advisory ones are reported. Production is known by the stack's name (the `productionStacks`
setting of each policy's configuration, default `prod`), since a policy does not see the stack's
own config. Building the policies starts nothing: only `PolicyPack(...)` (policy/__main__.py)
serves them to the Pulumi engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policy.model import Resource, Rule, Stack, Unknown
from policy.rules import RULES

PACK_NAME = "gpu-platform"
PRODUCTION_STACKS = ("prod",)
LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}
CONFIG = PolicyConfigSchema(
    properties={
        "productionStacks": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(PRODUCTION_STACKS),
            "description": "Stacks whose resources production rules apply to.",
        }
    }
)


def plain(value: Any) -> Any:
    """pulumi-policy's inputs (proxies that raise on a value known only at deploy) as plain
    maps and lists, each such value an `Unknown`: one Output in a resource then leaves only
    that value unjudged, not every rule on the resource (or, for a stack rule, the stack)."""
    if isinstance(value, Mapping):
        result = {}
        for key in value:
            try:
                result[key] = plain(value[key])
            except UnknownValueError:
                result[key] = Unknown()
        return result
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(Unknown())
        return items
    return value


def _resource(type_: str, name: str, props: Any, protect: bool | None) -> Resource:
    return Resource(type_, name, plain(props), bool(protect))


def stack_of(urn: str, config: Mapping[str, Any]) -> Stack:
    """`urn:pulumi:<stack>::<project>::...`: the stack the resource belongs to."""
    name = urn.split("::", 1)[0].rsplit(":", 1)[-1]
    production = config.get("productionStacks") or PRODUCTION_STACKS
    return Stack(production=name in production)


def _metadata(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description,
        "enforcement_level": LEVELS[rule.enforcement],
        "config_schema": CONFIG,
    }


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    check = rule.check_resource
    assert check is not None

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = _resource(args.resource_type, args.name, args.props, args.opts.protect)
        for message in check(resource, stack_of(args.urn, args.get_config())):
            report_violation(message, args.urn)

    return ResourceValidationPolicy(validate=validate, **_metadata(rule))


def stack_policy(rule: Rule) -> StackValidationPolicy:
    check = rule.check_stack
    assert check is not None

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        urns = {}
        resources = []
        for r in args.resources:
            resource = _resource(r.resource_type, r.name, r.props, r.opts.protect)
            resources.append(resource)
            urns[id(resource)] = r.urn
        if not args.resources:
            return
        stack = stack_of(args.resources[0].urn, args.get_config())
        for violation in check(resources, stack):
            report_violation(violation.message, urns.get(id(violation.resource)))

    return StackValidationPolicy(validate=validate, **_metadata(rule))


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [
        resource_policy(rule) if rule.check_resource is not None else stack_policy(rule)
        for rule in RULES
    ]
