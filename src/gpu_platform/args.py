"""What the public components share at their boundary: typed args (TypedDicts whose fields
Pulumi's component analyzer turns into a schema for every language) checked at construction,
with one message per problem naming the key as every language spells it (camelCase)."""

from __future__ import annotations

from collections.abc import Iterable

import pulumi


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
