"""Resource options for a component's children."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi


def child_of(
    parent: pulumi.Resource,
    provider: pulumi.ProviderResource | None,
    depends_on: Sequence[pulumi.Resource] | None = None,
    **kwargs,
) -> pulumi.ResourceOptions:
    """Fresh options for one child: parented, with its explicit provider (None: the one it
    inherits from its parent, else the default). A new object per call,
    so no two resources ever share (and mutate) one options object."""
    return pulumi.ResourceOptions(
        parent=parent,
        provider=provider,
        depends_on=list(depends_on) if depends_on is not None else None,
        **kwargs,
    )
