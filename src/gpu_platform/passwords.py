"""Passwords and keys Pulumi generates once and keeps, secret, in the stack's state."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_random as random


def password_generator(name: str, parent: pulumi.Resource) -> Callable[..., pulumi.Output[str]]:
    """`generate(purpose, length=32)`: a password Pulumi generates once and keeps, secret, in
    its state (`<name>-<purpose>`), of letters and digits only, as connection URIs and headers
    take them unescaped. The stack disables default providers: random gets its own."""
    provider = random.Provider(f"{name}-random", opts=pulumi.ResourceOptions(parent=parent))

    def generate(purpose: str, length: int = 32) -> pulumi.Output[str]:
        return random.RandomPassword(
            f"{name}-{purpose}",
            length=length,
            special=False,
            opts=pulumi.ResourceOptions(parent=parent, provider=provider),
        ).result

    return generate
