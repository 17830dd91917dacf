"""What changes between two offline plans of one stack (pure): resources created, updated,
replaced and deleted with their property-level changes, the monthly cost per line item, and the
findings that appear or go away.

Resources are matched by URN (their type, their parents' types and their name), as the engine
matches them: a resource moved under another parent type is deleted and created. Inputs are
compared path by path; a list of maps is matched item by item on a key its items share (a
container's `name`, a taint's `key`, a volume's `deviceName`, ...) so one changed item reads as
one change. Secret values are never in a plan: a secret shows as changed when the digest the
plan keeps of it differs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tools import replacements, urns

Action = Literal["create", "update", "replace", "delete"]
ABSENT = object()
SECRET = "[secret]"
# Keys a list's maps are matched on, in order of preference; a tuple is one key or the other
# (Prometheus rules are recording or alerting rules).
ITEM_KEYS: tuple[str | tuple[str, ...], ...] = (
    "name",
    "key",
    "deviceName",
    "mountPath",
    "containerPort",
    "port",
    ("alert", "record"),
)
# Options whose change the engine records (dependsOn only orders operations).
OPTIONS = (
    "protect",
    "retainOnDelete",
    "ignoreChanges",
    "replaceOnChanges",
    "deleteBeforeReplace",
    "customTimeouts",
)


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any
    after: Any
    secret: bool = False
    replaces: bool = False


@dataclass(frozen=True)
class ResourceChange:
    type: str
    name: str
    action: Action
    stateful: str | None
    """What the resource is when it holds state ("node pool", "database", ...)."""
    properties: tuple[PropertyChange, ...] = ()
    protected: bool = False
    """`protect` before the change: the engine refuses to replace or delete it."""
    retained: bool = False
    """`retainOnDelete` before the change: a deletion leaves the cloud resource in place."""

    @property
    def key(self) -> str:
        return f"{self.type}::{self.name}"

    @property
    def destructive(self) -> bool:
        """A stateful resource replaced or deleted (not merely forgotten: retained on delete)."""
        if self.stateful is None or self.action not in ("replace", "delete"):
            return False
        return not (self.action == "delete" and self.retained)


@dataclass(frozen=True)
class CostLine:
    name: str
    before_min: float
    after_min: float
    before_max: float
    after_max: float

    @property
    def delta_min(self) -> float:
        return round(self.after_min - self.before_min, 2)

    @property
    def delta_max(self) -> float:
        return round(self.after_max - self.before_max, 2)


@dataclass(frozen=True)
class StackDiff:
    stack: str
    changes: tuple[ResourceChange, ...]
    cost: tuple[CostLine, ...]
    total: CostLine
    currency: str
    new_findings: tuple[Mapping[str, Any], ...] = ()
    resolved_findings: tuple[Mapping[str, Any], ...] = ()

    @property
    def unchanged(self) -> bool:
        return not (self.changes or self.new_findings or self.resolved_findings) and not any(
            line.delta_min or line.delta_max for line in self.cost
        )

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)


def _item_value(item: Mapping[str, Any], key: str | tuple[str, ...]) -> Any:
    for name in (key,) if isinstance(key, str) else key:
        if item.get(name) is not None:
            if isinstance(key, tuple) and item.get("labels"):
                # One series recorded per label set (`model:...{pool="l4-spot"}`).
                labels = ",".join(f"{k}={v}" for k, v in sorted(item["labels"].items()))
                return f"{name}={item[name]}{{{labels}}}"
            return f"{name}={item[name]}"
    return None


def _item_key(items: list[Any]) -> str | tuple[str, ...] | None:
    """The key every item of a list of maps has, with distinct values."""
    if not items or not all(isinstance(i, Mapping) for i in items):
        return None
    for key in ITEM_KEYS:
        values = [_item_value(i, key) for i in items]
        if all(v is not None for v in values) and len(set(values)) == len(values):
            return key
    return None


def _walk(before: Any, after: Any, path: str, shape: str) -> Iterator[tuple[str, str, Any, Any]]:
    """(path, list-free path, before, after) of each differing leaf or subtree."""
    if before == after:
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after)):
            yield from _walk(
                before.get(key, ABSENT),
                after.get(key, ABSENT),
                f"{path}.{key}" if path else str(key),
                f"{shape}.{key}" if shape else str(key),
            )
        return
    if isinstance(before, list) and isinstance(after, list):
        key = _item_key(before) if before and after and _item_key(after) else None
        if key is not None and _item_key(after) == key:
            old = {_item_value(i, key): i for i in before}
            new = {_item_value(i, key): i for i in after}
            kept = [v for v in old if v in new]
            if kept != [v for v in new if v in old]:
                # Only the order: the engine compares lists by position, so this is a change.
                yield f"{path} (order)", shape, kept, [v for v in new if v in old]
            for value in [*old, *(v for v in new if v not in old)]:
                yield from _walk(
                    old.get(value, ABSENT), new.get(value, ABSENT), f"{path}[{value}]", shape
                )
            return
        if len(before) == len(after) and all(isinstance(i, Mapping) for i in before + after):
            for index, (a, b) in enumerate(zip(before, after, strict=True)):
                yield from _walk(a, b, f"{path}[{index}]", shape)
            return
    yield path, shape, before, after


def _secret_paths(resource: Mapping[str, Any] | None) -> dict[str, str]:
    return dict((resource or {}).get("secrets") or {})


def _property_changes(
    type_: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[PropertyChange]:
    options = after.get("options") or {}
    replace_on = options.get("replaceOnChanges") or []
    # The engine leaves these alone (a count the autoscaler owns, a disk the cloud grows).
    ignored = [replacements.shape(p) for p in options.get("ignoreChanges") or []]
    changes = []
    for path, shape, old, new in _walk(before.get("inputs"), after.get("inputs"), "", ""):
        if replacements.covered(shape, ignored):
            continue
        replaces = replacements.replaces(type_, shape, replace_on)
        changes.append(PropertyChange(path, old, new, SECRET in (old, new), replaces))
    # A secret whose marker stayed but whose value changed.
    old_secrets, new_secrets = _secret_paths(before), _secret_paths(after)
    listed = {c.path for c in changes}
    for path in sorted(set(old_secrets) & set(new_secrets)):
        shape = replacements.shape(path)
        if old_secrets[path] == new_secrets[path] or path in listed:
            continue
        if replacements.covered(shape, ignored):
            continue
        replaces = replacements.replaces(type_, shape, replace_on)
        changes.append(PropertyChange(path, SECRET, SECRET, True, replaces))
    for option in OPTIONS:
        old, new = (before.get("options") or {}).get(option), options.get(option)
        if old != new:
            changes.append(PropertyChange(f"(option) {option}", old, new))
    return sorted(changes, key=lambda c: c.path)


def _costs(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[list[CostLine], CostLine]:
    old = {i["name"]: i for i in (before.get("cost") or {}).get("items", [])}
    new = {i["name"]: i for i in (after.get("cost") or {}).get("items", [])}
    lines = []
    for name in [*old, *(n for n in new if n not in old)]:
        a, b = old.get(name, {}), new.get(name, {})
        lines.append(
            CostLine(
                name,
                a.get("monthlyMin", 0.0),
                b.get("monthlyMin", 0.0),
                a.get("monthlyMax", 0.0),
                b.get("monthlyMax", 0.0),
            )
        )
    total = CostLine(
        "total",
        (before.get("cost") or {}).get("monthlyMin", 0.0),
        (after.get("cost") or {}).get("monthlyMin", 0.0),
        (before.get("cost") or {}).get("monthlyMax", 0.0),
        (after.get("cost") or {}).get("monthlyMax", 0.0),
    )
    return lines, total


def _finding_key(finding: Mapping[str, Any]) -> tuple:
    return (finding.get("rule"), finding.get("resource"), finding.get("message"))


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], stack: str | None = None
) -> StackDiff:
    """The difference from plan `before` to plan `after` (two plans' JSON documents); an empty
    document stands for a stack that does not exist on that side."""
    old, new = urns.by_urn(before), urns.by_urn(after)
    changes: list[ResourceChange] = []
    for urn in [*old, *(u for u in new if u not in old)]:
        a, b = old.get(urn), new.get(urn)
        resource = b or a
        assert resource is not None
        type_, name = resource["type"], resource["name"]
        stateful = replacements.stateful_kind(type_, (resource.get("inputs") or {}))
        kept = (a or {}).get("options") or {}
        protected, retained = bool(kept.get("protect")), bool(kept.get("retainOnDelete"))
        if a is None:
            changes.append(ResourceChange(type_, name, "create", stateful))
        elif b is None:
            changes.append(ResourceChange(type_, name, "delete", stateful, (), protected, retained))
        else:
            properties = _property_changes(type_, a, b)
            if properties:
                action: Action = "replace" if any(p.replaces for p in properties) else "update"
                changes.append(
                    ResourceChange(
                        type_, name, action, stateful, tuple(properties), protected, retained
                    )
                )
    lines, total = _costs(before, after)
    old_findings = {_finding_key(f): f for f in before.get("findings", [])}
    new_findings = {_finding_key(f): f for f in after.get("findings", [])}
    return StackDiff(
        stack=stack or after.get("stack") or before.get("stack") or "?",
        changes=tuple(changes),
        cost=tuple(lines),
        total=total,
        currency=(after.get("cost") or before.get("cost") or {}).get("currency", "USD"),
        new_findings=tuple(f for k, f in new_findings.items() if k not in old_findings),
        resolved_findings=tuple(f for k, f in old_findings.items() if k not in new_findings),
    )
